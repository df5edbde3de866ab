/**
 * The Replayer: per-worker iteration graphs (forward, backward, neighbourhood cast nodes, optimizer step), the ring
 * all-reduce as {@code io.qsync.runtime.SyncStep} performs it, and cluster alignment. Pure Java, no Spark.
 */
package io.qsync.planner.replay;
