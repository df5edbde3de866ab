package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.models.DemoModels;
import io.qsync.runtime.ModelSpec;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two-level gradient exchange in a real Spark job (local[2]): with a backend that offers a host collective
 * ({@link HostRingTestBackend}, standing in for NCCL among a host's GPU workers) the two workers of the host reduce in
 * it, and the job trains exactly as the plain TCP ring does; {@code spark.qsync.comm.collective} chooses.
 */
class HostCollectiveJobTest {
    private static SparkSession spark;
    private static LabeledImages images;

    @BeforeAll
    static void start() {
        spark = SparkTestSession.start("host-collective-test");
        images = FashionMnist.load(FashionMnist.Split.TRAIN).head(512);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static TrainJob.Result train(String backend, String collective) {
        Map<String, String> s = new HashMap<>();
        s.put("spark.qsync.numWorkers", "2");
        s.put("spark.qsync.batchSize", "64");
        s.put("spark.qsync.shuffle", "false");
        s.put("spark.qsync.checksumEvery", "2");
        s.put("spark.qsync.backend", backend);
        s.put("spark.qsync.comm.collective", collective);
        s.put("spark.qsync.comm.connectTimeout", "20s");
        s.put("spark.qsync.comm.ioTimeout", "20s");
        s.put("spark.qsync.comm.bucketBytes", "16384");
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(3, 64, 1e-3).toJson());
        return TrainJob.train(
                spark, ImageFrames.toFrame(spark, images, 2), spec, TrainSettings.from(s), null, null, null);
    }

    @Test
    void theHostsWorkersReduceInTheHostCollectiveAndTrainAsTheRingDoes() {
        int before = HostRingTestBackend.JOINED.get();
        TrainJob.Result hier = train("test-hostring", "auto");
        assertEquals(before + 2, HostRingTestBackend.JOINED.get(), "both workers joined the host collective");
        TrainJob.Result ring = train("test-hostring", "ring");
        assertEquals(before + 2, HostRingTestBackend.JOINED.get(), "collective=ring: no host collective");
        assertEquals(hier.replicaChecksums()[0], hier.replicaChecksums()[1], "replicas bitwise identical");
        // with two workers every element is a + b either way: the two exchanges give the same bits
        assertArrayEquals(ring.replicaChecksums(), hier.replicaChecksums(), "host collective vs TCP ring");
        assertArrayEquals(ring.history().stepLosses(), hier.history().stepLosses(), "losses");
    }

    @Test
    void ncclOnWorkersWithoutAHostCollectiveFailsNamingTheSetting() {
        Exception e = assertThrows(Exception.class, () -> train("cpu", "nccl"));
        String m = JobFailures.userMessage(e);
        assertTrue(m.contains("spark.qsync.comm.collective=auto"), m);
    }
}
