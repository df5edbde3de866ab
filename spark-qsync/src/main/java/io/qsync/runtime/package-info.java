/**
 * Executor-side runtime of synchronous data-parallel training: the local shard, the per-step shard schedule, the
 * network adapters, one synchronous step, and the worker loop. Free of planning logic and of Spark's scheduler:
 * the Spark glue lives in {@code io.qsync.spark}.
 */
package io.qsync.runtime;
