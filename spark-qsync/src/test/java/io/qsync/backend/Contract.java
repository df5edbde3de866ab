package io.qsync.backend;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.LocalGroup;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.SyncStep;
import io.qsync.runtime.TrainingBackend;
import io.qsync.runtime.TrainingEngine;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/** Helpers of the backend contract suite: finding a usable backend, and training replicas in one in-process ring. */
final class Contract {
    private Contract() {}

    /** The backend named {@code name}, or the test is skipped with the reason it cannot run here. */
    static TrainingBackend usable(String name) {
        Optional<TrainingBackend> b = Backends.find(name);
        assumeTrue(b.isPresent(), () -> "skipped: no '" + name + "' backend on the class path");
        Optional<String> why = b.get().unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: the " + name + " backend cannot run here: " + why.orElse(""));
        return b.get();
    }

    /**
     * Trains one replica per backend (rank order) in one ring: at step {@code s} the global batch is
     * {@code batches.apply(s, rows * ranks)}, split into equal contiguous shards of {@code rows}, and every replica
     * runs {@link SyncStep}.
     *
     * @return each rank's final flat parameters
     */
    static List<float[]> trainInRing(
            ModelSpec spec,
            List<TrainingBackend> backends,
            int steps,
            int rows,
            BiFunction<Integer, Integer, HostBatch> batches)
            throws Exception {
        int n = backends.size();
        LocalGroup group = new LocalGroup(n, CommConfig.defaults().withIoTimeout(Duration.ofSeconds(60)));
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (Communicator comm = group.join(rank);
                            TrainingEngine e = backends.get(rank).open(new EngineRequest(spec, null, -1, 0, rows))) {
                        try (SyncStep step = new SyncStep(e, comm)) {
                            for (int s = 0; s < steps; s++) {
                                step.run(shard(batches.apply(s, rows * n), rank, n), rows * n, 0);
                            }
                        } catch (RuntimeException ex) {
                            comm.abort("rank " + rank + " failed: " + ex);
                            throw ex;
                        }
                        FloatBuffer p = FloatBuffer.allocate((int) e.numParams());
                        e.readParams(p);
                        // the replica check of a job compares checksums: they must be the CRC of these very bits
                        long crc = io.qsync.runtime.Nd4jBuffers.checksum(FloatBuffer.wrap(p.array()));
                        if (e.checksum() != crc) {
                            throw new AssertionError(
                                    "rank " + rank + " (" + backends.get(rank).name()
                                            + "): checksum() disagrees with the CRC of its parameters read back");
                        }
                        return p.array();
                    }
                }));
            }
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : futures) {
                out.add(f.get(10, TimeUnit.MINUTES));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Rank {@code r}'s contiguous share of a global batch of {@code n} equal shards. */
    static HostBatch shard(HostBatch global, int r, int n) {
        int rows = global.rows() / n;
        int d = global.numFeatures();
        int k = global.numTargets();
        return new HostBatch(
                rows,
                d,
                Arrays.copyOfRange(global.features(), r * rows * d, (r + 1) * rows * d),
                k,
                Arrays.copyOfRange(global.targets(), r * rows * k, (r + 1) * rows * k));
    }
}
