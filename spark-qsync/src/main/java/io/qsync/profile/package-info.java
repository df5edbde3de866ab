/**
 * Measuring live networks for the planner: the layer graph of a DL4J network
 * ({@link io.qsync.profile.NetworkGraphs}), per-layer statistics over real minibatches
 * ({@link io.qsync.profile.StatisticsCollector}), and a device's cost profile measured inside real training steps of a
 * {@link io.qsync.runtime.TrainingEngine} through its backend's {@link io.qsync.runtime.ProfilingSupport}
 * ({@link io.qsync.profile.Profiler}), so every backend profiles its own device the same way. The results are plain
 * planner data ({@code io.qsync.planner.*}).
 */
package io.qsync.profile;
