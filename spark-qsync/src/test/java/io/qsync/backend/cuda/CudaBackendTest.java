package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaPresence;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.models.DemoModels;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.ModelSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cuda backend's wiring as seen from any machine: found by name, support check without a device, auto. */
class CudaBackendTest {
    /** A VGG-style plan with every GEMM precision of the backend. */
    private static final PrecisionPlan MIXED = new PrecisionPlan(Map.of(
            "conv_0", Precision.INT8,
            "conv_1", Precision.FP16,
            "conv_2", Precision.BF16,
            "conv_3", Precision.FP8_E4M3,
            "dense_0", Precision.TF32));

    private static EngineRequest request(Object conf, PrecisionPlan plan) {
        return new EngineRequest(ModelSpec.of(EngineParity.init(conf)), plan, -1, 0, 16);
    }

    @Test
    void isOnTheClassPathAndChecksNetworksWithoutADevice() {
        assertTrue(Backends.find("cuda").isPresent(), "cuda backend not registered");
        CudaBackend b = new CudaBackend();
        assertEquals(List.of(), b.unsupported(request(DemoModels.resnetCnn(1, 1e-3), null)));
        assertEquals(List.of(), b.unsupported(request(DemoModels.vggCnn(1, 1e-3), null)));
        assertEquals(List.of(), b.unsupported(request(DemoModels.vggCnn(1, 1e-3), MIXED)));
        List<String> p = b.unsupported(request(
                DemoModels.mlp(1, 32, 1e-3),
                new PrecisionPlan(Map.of("dense_0", Precision.FP8_E5M2, "output_0", Precision.INT8))));
        assertEquals(2, p.size(), p.toString());
        assertTrue(p.get(0).contains("FP8_E5M2") && p.get(1).contains("INT8"), p.toString());
        List<String> unknown = b.unsupported(
                request(DemoModels.mlp(1, 32, 1e-3), new PrecisionPlan(Map.of("layer0", Precision.INT8))));
        assertTrue(unknown.size() == 1 && unknown.get(0).contains("layer0"), unknown.toString());
    }

    @Test
    void withoutADeviceAutoPicksCpuAndCudaSaysWhy() {
        String why = CudaPresence.whyUnavailable();
        if (why == null) {
            assertEquals(
                    "cuda",
                    Backends.select("auto", request(DemoModels.mlp(1, 32, 1e-3), null))
                            .name());
            return;
        }
        EngineRequest r = request(DemoModels.mlp(1, 32, 1e-3), null);
        assertEquals("cpu", Backends.select("auto", r).name());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.select("cuda", r));
        assertTrue(
                e.getMessage().contains("spark.qsync.backend=cpu")
                        && e.getMessage().contains(why),
                e.getMessage());
    }

    @Test
    void hostCollectiveIsOfferedOnlyWhereNcclRuns() {
        CudaBackend b = new CudaBackend();
        String why = io.qsync.lowprec.cuda.NcclPresence.whyUnavailable();
        assertEquals(why == null, b.newHostCollectiveId().isPresent(), String.valueOf(why));
        if (why != null) {
            String msg = assertThrows(
                            io.qsync.comm.CommException.class,
                            () -> b.joinHostCollective(new byte[128], 0, 2, 0, io.qsync.comm.CommConfig.defaults()))
                    .getMessage();
            assertTrue(msg.contains("rank 0 of 2") && msg.contains(why), msg);
        }
    }

    /**
     * What makes {@code open} answer "lower spark.qsync.batchSize": out-of-memory statuses and size refusals, found by
     * type anywhere in the cause chain (not by words in messages); other CUDA failures pass through unchanged.
     */
    @Test
    void capacityFailuresAreRecognisedByTypeNotByMessage() {
        var oom = new io.qsync.lowprec.cuda.CudaException(
                "cudaMalloc(x, 8 bytes) failed", io.qsync.lowprec.cuda.CudaException.OUT_OF_MEMORY);
        assertTrue(CudaBackend.cannotHold(oom));
        assertTrue(CudaBackend.cannotHold(new io.qsync.lowprec.cuda.DeviceCapacityException("tensor too large")));
        assertTrue(CudaBackend.cannotHold(new RuntimeException("while opening", oom)), "found in the cause chain");
        var illegal = new io.qsync.lowprec.cuda.CudaException("an illegal memory access; it needs a fix", 700);
        assertTrue(!CudaBackend.cannotHold(illegal), "error 700 is not a capacity problem, whatever its words");
        assertTrue(!CudaBackend.cannotHold(new IllegalStateException("out of memory (a message, not a type)")));
    }

    private static io.qsync.lowprec.cuda.DeviceFacts card(String name, int major, int minor) {
        return new io.qsync.lowprec.cuda.DeviceFacts(
                0, name, major, minor, 16L << 30, 40, 4L << 20, 1590, 5001, "0000:00:04.0", 13000, 13000);
    }

    /**
     * A plan is checked against the card before any device memory is taken: FP8 needs compute capability 8.9,
     * TF32 and BF16 need 8.0, FP16 and INT8 run on every card CUDA 13 supports (the T4's 7.5 and up). The facts are
     * what cudart reports for those cards; the network and plan are real.
     */
    @Test
    void aCardsComputeCapabilityDecidesWhichPlannedPrecisionsItRuns() {
        org.deeplearning4j.nn.api.Model vgg = CudaBackend.planned(request(DemoModels.vggCnn(1, 1e-3), MIXED));
        var t4 = card("Tesla T4", 7, 5);
        var e = assertThrows(
                io.qsync.runtime.UnsupportedModelException.class,
                () -> ProgramCompiler.compile(vgg, "cuda", t4::whyCannotRun));
        assertEquals(3, e.problems().size(), e.getMessage());
        for (String layer : List.of("conv_2", "conv_3", "dense_0")) {
            assertTrue(e.problems().stream().anyMatch(l -> l.contains("'" + layer + "'")), e.getMessage());
        }
        assertTrue(
                e.getMessage().contains("Tesla T4 is 7.5") && e.getMessage().contains("plan FP16 or INT8"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("'conv_0'") && !e.getMessage().contains("'conv_1'"), e.getMessage());
        var a10 = card("NVIDIA A10", 8, 6);
        var onA10 = assertThrows(
                io.qsync.runtime.UnsupportedModelException.class,
                () -> ProgramCompiler.compile(vgg, "cuda", a10::whyCannotRun));
        assertEquals(1, onA10.problems().size(), onA10.getMessage());
        assertTrue(
                onA10.problems().get(0).contains("'conv_3'")
                        && onA10.problems().get(0).contains("FP8_E4M3 needs compute capability 8.9"),
                onA10.getMessage());
        assertEquals(
                vgg.numParams(),
                ProgramCompiler.compile(vgg, "cuda", card("NVIDIA L4", 8, 9)::whyCannotRun)
                        .numParams());
        assertEquals(
                vgg.numParams(),
                ProgramCompiler.compile(vgg, "cuda", card("NVIDIA H100 80GB HBM3", 9, 0)::whyCannotRun)
                        .numParams());
        for (Precision p : Precision.values()) {
            assertEquals(null, card("NVIDIA H100", 9, 0).whyCannotRun(p), p.toString());
        }
    }

    /**
     * On an executor that sees its card, {@code unsupported} answers for that card, so {@code auto} takes the CPU
     * where the card cannot train the request: a V100 (CUDA 13 supports compute capability 7.5 and later), or a T4
     * asked for BF16, FP8 or TF32 layers. Without a card to ask (the driver), the network and plan alone decide.
     */
    @Test
    void unsupportedAnswersForTheCardTheExecutorSees() {
        EngineRequest vgg = request(DemoModels.vggCnn(1, 1e-3), MIXED);
        List<String> v100 = CudaBackend.unsupported(vgg, card("Tesla V100-SXM2-32GB", 7, 0));
        assertTrue(
                v100.get(0).contains("compute capability 7.0") && v100.get(0).contains("7.5 and later"),
                v100.toString());
        assertEquals(List.of(), CudaBackend.unsupported(vgg, card("NVIDIA H100 80GB HBM3", 9, 0)));
        assertEquals(List.of(), CudaBackend.unsupported(vgg, null));
        List<String> t4 = CudaBackend.unsupported(vgg, card("Tesla T4", 7, 5));
        assertEquals(3, t4.size(), t4.toString());
        assertTrue(t4.stream().allMatch(l -> l.contains("Tesla T4 is 7.5")), t4.toString());
        String message = new io.qsync.runtime.UnsupportedModelException("cuda", v100).getMessage();
        assertTrue(message.contains("spark.qsync.backend=cpu"), message);
    }
}
