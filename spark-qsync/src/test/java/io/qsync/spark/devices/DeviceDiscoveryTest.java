package io.qsync.spark.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.cuda.CudaPresence;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How a task's device becomes a device type: the CPU as a device (instruction set, threads), CPU workers by
 * {@code spark.qsync.device.cpuWorkers}, the type overrides of {@code spark.qsync.plan.devices} (an empty entry keeps
 * the discovered type), and the one-line errors.
 */
class DeviceDiscoveryTest {
    private static final DiscoveryOptions NONE = DiscoveryOptions.discovered();

    @Test
    void theWidestInstructionSetNamesACpuType() {
        assertEquals("avx512", CpuFacts.isaOf("fpu sse4_2 avx avx2 avx512f avx512bw"));
        assertEquals("avx2", CpuFacts.isaOf(" fpu sse4_2 avx avx2 fma"));
        assertEquals("neon", CpuFacts.isaOf("fp asimd evtstrm aes"));
        assertEquals("base", CpuFacts.isaOf("fpu vme"));
        assertEquals("cpu-avx2-8t", CpuFacts.type("avx2", 8));
    }

    @Test
    void aCpuWorkerIsADeviceTypeOfItsIsaAndThreads() {
        WorkerDevice d = DeviceDiscovery.discover(0, 2, "h", List.of(), 3, "cpu", NONE);
        assertEquals(WorkerDevice.CPU, d.kind());
        assertEquals(CpuFacts.type(CpuFacts.isa(), 3), d.type());
        assertEquals(3, d.cores());
        assertEquals(-1, d.ordinal());
        assertEquals(d, WorkerDevice.fromJson(d.toJson()), "facts travel as JSON");
    }

    @Test
    void theLastRanksAreCpuWorkersWhenAsked() {
        DiscoveryOptions oneCpu = new DiscoveryOptions(List.of(), 1, 0, 0);
        WorkerDevice last = DeviceDiscovery.discover(1, 2, "h", List.of("0"), 2, "auto", oneCpu);
        assertEquals(WorkerDevice.CPU, last.kind());
        assertTrue(last.note().contains("spark.qsync.device.cpuWorkers=1"), last.note());
        assertEquals("0", last.gpuAddress(), "Spark's address is kept in the facts");
    }

    @Test
    void aGpuAddressWithoutCudaTrainsOnTheCpuAndSaysWhy() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                CudaPresence.whyUnavailable() != null, "this machine can use CUDA: the address opens a real GPU");
        WorkerDevice d = DeviceDiscovery.discover(0, 2, "h", List.of("1"), 2, "auto", NONE);
        assertEquals(WorkerDevice.CPU, d.kind());
        assertTrue(d.note().startsWith("Spark assigned GPU 1 but this process cannot use CUDA"), d.note());
    }

    @Test
    void planDevicesRenamesRanksAndAnEmptyEntryKeepsTheDiscoveredType() {
        DiscoveryOptions named = new DiscoveryOptions(List.of("h100", ""), 0, 0, 0);
        WorkerDevice r0 = DeviceDiscovery.discover(0, 2, "h", List.of(), 2, "cpu", named);
        WorkerDevice r1 = DeviceDiscovery.discover(1, 2, "h", List.of(), 2, "cpu", named);
        assertEquals("h100", r0.type());
        assertTrue(r0.note().contains("spark.qsync.plan.devices"), r0.note());
        assertEquals(CpuFacts.type(CpuFacts.isa(), 2), r1.type());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> DeviceDiscovery.discover(0, 3, "h", List.of(), 2, "cpu", named));
        assertTrue(e.getMessage().contains("spark.qsync.plan.devices names 2"), e.getMessage());
    }

    @Test
    void badSettingsNameTheirKey() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DiscoveryOptions(List.of(), -1, 0, 0))
                .getMessage()
                .contains("spark.qsync.device.cpuWorkers"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DiscoveryOptions(List.of(), 0, 1.0, 0))
                .getMessage()
                .contains("spark.qsync.experimental.smFraction"));
    }
}
