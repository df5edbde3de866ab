package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.LocalGroup;
import io.qsync.data.FashionMnist;
import io.qsync.models.DemoModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

/** Two workers train a network with batch norm (whose running statistics are averaged, not summed) in lock-step. */
class SyncStepBatchNormTest {
    @Test
    void aBatchNormGraphTrainsOnTwoWorkersAndTheReplicasStayIdentical() {
        assertTimeoutPreemptively(Duration.ofMinutes(3), () -> {
            ComputationGraph init = new ComputationGraph(DemoModels.resnetCnn(4, 1e-3));
            init.init();
            ModelSpec spec = ModelSpec.of(init);
            LocalShard data =
                    FashionMnist.load(FashionMnist.Split.TRAIN).head(64).toShard();
            LocalGroup group = new LocalGroup(2, CommConfig.defaults());
            List<CompletableFuture<float[]>> params = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                params.add(CompletableFuture.supplyAsync(() -> {
                    io.qsync.backend.cpu.CpuEngine net = io.qsync.backend.cpu.CpuEngine.of(spec.restore());
                    try (Communicator comm = group.join(rank);
                            SyncStep step = new SyncStep(net, comm)) {
                        for (int s = 0; s < 2; s++) {
                            int from = s * 32 + (rank == 0 ? 0 : 20);
                            step.run(data.hostBatch(null, from, from + (rank == 0 ? 20 : 12), 10), 32, 0);
                        }
                        return net.params().toFloatVector();
                    }
                }));
            }
            float[] p0 = params.get(0).join();
            assertArrayEquals(p0, params.get(1).join(), "replicas must stay bitwise identical");
            float[] start = spec.restore().params().toFloatVector();
            double moved = 0;
            for (int i = 0; i < start.length; i++) {
                moved = Math.max(moved, Math.abs(p0[i] - start[i]));
            }
            assertTrue(moved > 1e-4, "training changed the parameters (max change " + moved + ")");
        });
    }
}
