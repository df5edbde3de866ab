package io.qsync.spark;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.storage.RDDInfo;
import scala.collection.JavaConverters;

/**
 * Bounds how long each attempt of the training's barrier stage may wait for its task slots. Spark checks the slots of
 * a barrier stage only when the job is submitted; a retried attempt after a lost node waits for slots forever. This
 * watchdog sees every attempt of the barrier stage (first and retries) through the listener bus; if an attempt has not
 * launched all {@code numWorkers} tasks within the wait, it cancels the job (by its job tag) and keeps a message that
 * says how many slots the stage needs and how many the cluster has.
 */
final class SlotWatchdog extends SparkListener implements AutoCloseable {
    private static final long POLL_MILLIS = 250;
    private final SparkContext sc;
    private final int needed;
    private final Duration wait;
    private final String jobTag;
    private final Thread thread;
    private final AtomicInteger launched = new AtomicInteger();
    private volatile int stageId = -1;
    private volatile int attempt = -1;
    private volatile long pendingSince = -1;
    private volatile String failure;
    private volatile boolean closed;

    /** Starts watching the barrier stages of the jobs tagged {@code jobTag}. */
    SlotWatchdog(SparkContext sc, int needed, Duration wait, String jobTag) {
        this.sc = sc;
        this.needed = needed;
        this.wait = wait;
        this.jobTag = jobTag;
        sc.addSparkListener(this);
        thread = new Thread(this::watch, "qsync-slot-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    /** Why the job was cancelled, or null if the watchdog did not cancel it. */
    String failure() {
        return failure;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        if (JavaConverters.seqAsJavaList(e.stageInfo().rddInfos()).stream().anyMatch(RDDInfo::isBarrier)) {
            stageId = e.stageInfo().stageId();
            attempt = e.stageInfo().attemptNumber();
            launched.set(0);
            pendingSince = System.nanoTime();
        }
    }

    @Override
    public void onTaskStart(SparkListenerTaskStart e) {
        if (e.stageId() == stageId && e.stageAttemptId() == attempt && launched.incrementAndGet() >= needed) {
            pendingSince = -1;
        }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted e) {
        if (e.stageInfo().stageId() == stageId && e.stageInfo().attemptNumber() == attempt) {
            pendingSince = -1;
        }
    }

    private void watch() {
        while (!closed && failure == null) {
            long since = pendingSince;
            if (since > 0 && System.nanoTime() - since > wait.toNanos()) {
                int slots = TrainJob.freeSlots(sc);
                failure =
                        "attempt " + (attempt + 1) + " of the training's barrier stage needs " + needed + " task slots "
                                + "at once, but the cluster has " + slots + " (" + launched.get()
                                + " of its tasks started) and did not "
                                + "offer " + needed + " within spark.qsync.slotWaitTimeout=" + wait.toSeconds()
                                + "s; an executor or node"
                                + " was lost and not replaced. Restore the executors, lower spark.qsync.numWorkers or raise "
                                + "spark.qsync.slotWaitTimeout";
                sc.cancelJobsWithTag(
                        jobTag); // the one-argument form exists in Spark 3.5 and 4; the message is failure()
                return;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        sc.removeSparkListener(this);
    }
}
