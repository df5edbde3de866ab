package io.qsync.bench;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH set-up our small benchmarks share, inherited by extending this class (JMH's annotations are
 * {@code @Inherited}): per-thread state, average time, one fork with a 2 GiB heap, 4 warm-up and 6 measured
 * iterations of one second. A subclass names its own time unit.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public abstract class JmhDefaults {}
