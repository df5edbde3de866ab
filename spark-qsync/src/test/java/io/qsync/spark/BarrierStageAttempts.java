package io.qsync.spark;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.storage.RDDInfo;
import scala.collection.JavaConverters;

/** Counts the attempts of barrier stages that Spark submits (first attempts and retries). */
final class BarrierStageAttempts extends SparkListener {
    private final AtomicInteger attempts = new AtomicInteger();
    private final SparkContext sc;

    private BarrierStageAttempts(SparkContext sc) {
        this.sc = sc;
    }

    /** Registers a counter on {@code sc}; remove it with {@link #close()}. */
    static BarrierStageAttempts on(SparkContext sc) {
        BarrierStageAttempts a = new BarrierStageAttempts(sc);
        sc.addSparkListener(a);
        return a;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        if (JavaConverters.seqAsJavaList(e.stageInfo().rddInfos()).stream().anyMatch(RDDInfo::isBarrier)) {
            attempts.incrementAndGet();
        }
    }

    /** Barrier stage attempts seen so far (after the listener bus has delivered every event). */
    int count() {
        try {
            sc.listenerBus().waitUntilEmpty(30_000);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("Spark's listener bus did not drain in 30 s", e);
        }
        return attempts.get();
    }

    void close() {
        sc.removeSparkListener(this);
    }
}
