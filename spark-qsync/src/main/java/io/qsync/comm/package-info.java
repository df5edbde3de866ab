/** Collectives among the workers of a synchronous training job: the {@link io.qsync.comm.Communicator} API and its
 * implementations (TCP ring for real clusters, in-JVM for unit tests). */
package io.qsync.comm;
