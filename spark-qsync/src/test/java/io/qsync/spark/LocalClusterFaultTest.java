package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults on a multi-JVM Spark ({@code local-cluster}: the driver and two executors are separate processes), driven by
 * {@link ClusterDriverMain} in a child JVM.
 */
class LocalClusterFaultTest {

    private static String field(String result, String name) {
        for (String f : result.split(" ")) {
            if (f.startsWith(name + "=")) {
                return f.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + result);
    }

    @Test
    void killedExecutorResumesFromItsCheckpointAndALostNodeEndsTheJobWithTheSlotMessage(@TempDir Path home) {
        Map<String, String> r = assertTimeoutPreemptively(
                Duration.ofSeconds(480),
                () -> ClusterDrivers.run(
                        ClusterDriverMain.class,
                        home,
                        home.resolve("checkpoints").toString(),
                        "20s"));
        String plain = r.get("uninterrupted");
        String resumed = r.get("resumed");
        String lost = r.get("lost-node");
        assertTrue(plain != null && plain.contains(" ok "), "uninterrupted run: " + plain);
        // SIGKILL mid-epoch (32 steps per epoch), checkpoints every 20 steps: the retry resumes from the last one
        assertTrue(resumed != null && resumed.contains(" ok "), "killed run: " + resumed);
        int killedAt = Integer.parseInt(field(resumed, "faultAtStep"));
        int resumedAt = Integer.parseInt(field(resumed, "resumedAt"));
        System.out.printf(
                "executor SIGKILLed after step %d; the retried stage resumed at step %d%n", killedAt, resumedAt);
        assertTrue(killedAt >= 30, "killed at " + killedAt);
        assertTrue(
                resumedAt > 0 && resumedAt % 20 == 0 && resumedAt <= killedAt + 1,
                "resumed at " + resumedAt + " (a checkpoint step, not 0)");
        assertEquals(field(plain, "checksum"), field(resumed, "checksum"), "resumed run bitwise equals uninterrupted");
        assertEquals(field(resumed, "checksum"), field(resumed, "replicas"));
        // a node lost for good
        assertTrue(lost != null && lost.contains(" failed "), "lost node: " + lost);
        double seconds = Double.parseDouble(field(lost, "secondsAfterFault"));
        System.out.printf("node lost for good: job ended %.1f s after the fault (slotWaitTimeout 20 s)%n", seconds);
        assertTrue(lost.contains("needs 2 task slots at once, but the cluster has 1"), lost);
        assertTrue(lost.contains("spark.qsync.slotWaitTimeout"), lost);
        assertTrue(seconds <= 60, "ended " + seconds + " s after the fault");
    }
}
