package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.LocalGroup;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** The replica check's gradient comparison over a real {@link LocalGroup}: both ranks agree, or both name the break. */
class ReplicaCheckTest {
    private static List<String> onTwoRanks(BiFunction<ReplicaCheck, Integer, String> body) {
        LocalGroup group = new LocalGroup(2, CommConfig.defaults().withIoTimeout(Duration.ofSeconds(30)));
        List<CompletableFuture<String>> out = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int rank = r;
            out.add(CompletableFuture.supplyAsync(() -> {
                try (Communicator comm = group.join(rank)) {
                    return body.apply(new ReplicaCheck(comm), rank);
                }
            }));
        }
        return out.stream().map(CompletableFuture::join).toList();
    }

    private static FloatBuffer vector(int n, int changedAt, float delta) {
        FloatBuffer b = FloatBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put(i, (float) Math.sin(i) + (i == changedAt ? delta : 0f));
        }
        return b;
    }

    @Test
    void equalReducedGradientsPassOnEveryRank() {
        List<String> r = assertTimeoutPreemptively(
                Duration.ofMinutes(1),
                () -> onTwoRanks((check, rank) -> {
                    FloatBuffer v = vector(1000, -1, 0f);
                    check.reducedGradients(Nd4jBuffers.checksum(v), v, "in step 1");
                    return "ok";
                }));
        assertEquals(List.of("ok", "ok"), r);
    }

    @Test
    void differingReducedGradientsFailEveryRankNamingTheFirstDifferingElement() {
        List<String> r = assertTimeoutPreemptively(
                Duration.ofMinutes(1),
                () -> onTwoRanks((check, rank) -> {
                    FloatBuffer mine = vector(1000, rank == 1 ? 417 : -1, 1e-3f);
                    IllegalStateException e = assertThrows(
                            IllegalStateException.class,
                            () -> check.reducedGradients(Nd4jBuffers.checksum(mine), mine, "in step 3"));
                    return e.getMessage();
                }));
        for (String msg : r) {
            assertTrue(msg.startsWith("replicas diverged in step 3: the all-reduced gradients differ"), msg);
            assertTrue(msg.contains("1 of 1000 differ, the first at gradient element 417"), msg);
        }
    }
}
