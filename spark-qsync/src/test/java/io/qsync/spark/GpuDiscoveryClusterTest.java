package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qsync.lowprec.cuda.CudaPresence;
import io.qsync.spark.devices.WorkerDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device discovery from Spark's resource scheduling on a real multi-JVM cluster: a worker discovers two fake GPUs
 * with a discovery script, each barrier task of a {@code plan=auto} job reads its own address from
 * {@code TaskContext.resources()} in the probe stage, and (no CUDA here) trains on the CPU saying why. The job runs
 * end to end; {@code devices.json} records both addresses.
 */
class GpuDiscoveryClusterTest {
    @Test
    void eachTaskOfTheProbeStageFindsItsOwnFakeGpu(@TempDir Path home) throws Exception {
        Path script = FakeGpus.script(home, "0", "1");
        Path plan = home.resolve("plan");
        Map<String, String> r = assertTimeoutPreemptively(
                Duration.ofSeconds(300),
                () -> ClusterDrivers.run(GpuClusterDriverMain.class, home, script.toString(), plan.toString()));
        String auto = r.get("auto");
        assertTrue(auto != null && auto.startsWith("ok "), "plan=auto job on local-cluster: " + auto);
        String[] replicas = auto.replaceFirst(".*replicas=(\\S+).*", "$1").split(",");
        assertEquals(replicas[0], replicas[1], "replicas identical: " + auto);
        JsonNode devices = new ObjectMapper().readTree(Files.readString(plan.resolve("devices.json")));
        Set<String> addresses = new TreeSet<>();
        for (JsonNode d : devices) {
            WorkerDevice w = new ObjectMapper().treeToValue(d.get("device"), WorkerDevice.class);
            addresses.add(w.gpuAddress());
            if (CudaPresence.whyUnavailable() != null) {
                assertEquals(WorkerDevice.CPU, w.kind(), w.describe());
                assertTrue(w.note().startsWith("Spark assigned GPU " + w.gpuAddress()), w.note());
            }
        }
        assertEquals(Set.of("0", "1"), addresses, "GPU addresses of the two ranks: " + devices);
        assertTrue(Files.exists(plan.resolve("plan.json")) && Files.exists(plan.resolve("report.html")), "plan files");
    }
}
