package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.HostOps;
import io.qsync.models.DemoModels;
import io.qsync.runtime.UnsupportedModelException;
import java.time.Duration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The program engine on the host reference ops against DL4J's CPU backend: 20 training steps of the same networks on
 * the same Fashion-MNIST batches, parameters within 1e-4 (max |Δ| / max |p|), or within twice DL4J's own drift on the
 * same batches with their rows reversed where that is larger (the ResNet-style graph: Adam turns the rounding noise of
 * exactly-zero gradients, e.g. of convolution biases in front of batch norms, into full-size steps).
 */
class HostProgramEngineTest {
    private static final double TOL = 1e-4;

    private static EngineParity.Result check(String what, Object conf, int rows, int steps) {
        EngineParity.Result r = assertTimeoutPreemptively(
                Duration.ofMinutes(3), () -> EngineParity.run(conf, new HostOps(), rows, steps));
        System.out.println("host program engine vs DL4J, " + what + ": " + r);
        assertTrue(r.paramRel() <= Math.max(TOL, 2 * r.floorRel()), what + ": " + r);
        assertTrue(r.gradRel() <= Math.max(TOL, 2 * r.gradFloor()), what + ": " + r);
        assertTrue(r.lossDiff() <= Math.max(TOL, 2 * r.lossFloor()), what + ": " + r);
        assertTrue(r.outputRel() <= Math.max(1e-3, 2 * r.floorRel()), what + ": " + r);
        assertTrue(r.exportExact(), what + ": exported parameters differ");
        return r;
    }

    @Test
    void mlpMatchesDl4j() {
        check("MLP 784-64-64-10 Adam", DemoModels.mlp(7, 64, 1e-3), 16, 20);
    }

    @Test
    void demoCnnMatchesDl4j() {
        check("demo CNN", DemoModels.fashionCnn(7, 1e-3), 8, 20);
    }

    @Test
    void resnetGraphMatchesDl4j() {
        check("ResNet-style graph", DemoModels.resnetCnn(7, 1e-3), 4, 20);
    }

    /** A one-worker job's update from the engine's own gradient equals a ring worker's, with batch norm's statistics. */
    @Test
    void localUpdateEqualsTheUpdateFromTheHostGradient() {
        org.junit.jupiter.api.Assertions.assertNull(
                EngineParity.localUpdateDiffers(DemoModels.resnetCnn(7, 1e-3), HostOps::new, 4, 4));
    }

    @Test
    void vggCnnMatchesDl4j() {
        check("VGG-style CNN", DemoModels.vggCnn(7, 1e-4), 2, 20);
    }

    private static MultiLayerConfiguration mlpWith(
            IUpdater u, double l2, double wd, GradientNormalization gn, Activation hidden, boolean mse) {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(11)
                .updater(u)
                .weightInit(WeightInit.XAVIER)
                .gradientNormalization(gn)
                .gradientNormalizationThreshold(0.5);
        if (l2 > 0) {
            b.l2(l2);
        }
        if (wd > 0) {
            b.weightDecay(wd);
        }
        return b.list()
                .layer(new DenseLayer.Builder()
                        .nIn(784)
                        .nOut(32)
                        .activation(hidden)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(16)
                        .activation(Activation.SIGMOID)
                        .build())
                .layer(
                        mse
                                ? new OutputLayer.Builder(LossFunctions.LossFunction.MSE)
                                        .nOut(10)
                                        .activation(Activation.IDENTITY)
                                        .build()
                                : new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                        .nOut(10)
                                        .activation(Activation.SOFTMAX)
                                        .build())
                .setInputType(InputType.feedForward(784))
                .build();
    }

    @Test
    void updatersRegularizationAndNormalizationMatchDl4j() {
        check(
                "Nesterovs + L2, leaky ReLU",
                mlpWith(new Nesterovs(0.01, 0.9), 1e-3, 0, GradientNormalization.None, Activation.LEAKYRELU, false),
                16,
                20);
        check(
                "AdamW (Adam + weight decay), clip L2 per layer",
                mlpWith(new Adam(1e-3), 0, 1e-2, GradientNormalization.ClipL2PerLayer, Activation.RELU, false),
                16,
                20);
        check(
                "Sgd, renormalize L2 per param type, MSE",
                mlpWith(new Sgd(0.05), 0, 0, GradientNormalization.RenormalizeL2PerParamType, Activation.TANH, true),
                16,
                20);
        check(
                "Sgd, clip element-wise",
                mlpWith(
                        new Sgd(0.05),
                        0,
                        0,
                        GradientNormalization.ClipElementWiseAbsoluteValue,
                        Activation.RELU,
                        false),
                16,
                20);
    }

    @Test
    void unsupportedLayersAreAllListedBeforeAnyAllocation() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(1)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .dilation(2, 2)
                        .activation(Activation.RELU)
                        .build())
                .layer(new LocalResponseNormalization.Builder().build())
                .layer(new DenseLayer.Builder()
                        .nOut(16)
                        .dropOut(0.5)
                        .activation(Activation.SOFTPLUS)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.XENT)
                        .nOut(10)
                        .activation(Activation.SIGMOID)
                        .build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        HostOps ops = new HostOps();
        UnsupportedModelException e = assertThrows(
                UnsupportedModelException.class, () -> ProgramEngine.open(EngineParity.init(conf), ops, "cuda", 4));
        System.out.println(e.getMessage());
        assertEquals(0, ops.allocatedFloats(), "nothing may be allocated before the check");
        assertEquals(5, e.problems().size(), e.getMessage());
        String m = e.getMessage();
        assertTrue(m.contains("layer0") && m.contains("dilation"), m);
        assertTrue(m.contains("LocalResponseNormalization"), m);
        assertTrue(m.contains("dropout") && m.toLowerCase().contains("softplus"), m);
        assertTrue(m.contains("XENT") || m.contains("LossBinaryXENT"), m);
        assertTrue(m.contains("spark.qsync.backend=cpu"), m);
    }

    /** A mixed plan (every lowered precision on the demo CNN) in the program engine = the CPU emulation of DL4J. */
    @Test
    void mixedPlanMatchesTheCpuEmulation() {
        PlanCases.runDemoCnnPlans("host program engine", HostOps::new, 16, (layers, r) -> {
            assertTrue(r.paramRel() <= 1e-4, layers + ": " + r);
            assertTrue(r.gradRel() <= 1e-4, layers + ": " + r);
            assertTrue(r.exportExact(), layers + ": exported parameters differ");
        });
    }

    /**
     * Benchmark rows count direct convolutions: im2col + GEMM and a lowered layer's GEMM are not (the host ops offer
     * no direct convolution; on a GPU {@code CudaProgramEngineGpuTest} checks that cuDNN's and the INT8 codes' are).
     */
    @Test
    void onlyTheOpsOwnConvolutionsCountAsDirect() {
        ConvolutionPath lowered = ConvolutionPath.of(null, new LayerPrecision(Precision.FP16, null, 0));
        assertEquals(new ConvolutionPath("FP16 GEMM (im2col)", false), lowered);
        try (ProgramEngine e =
                ProgramEngine.open(EngineParity.init(DemoModels.fashionCnn(7, 1e-3)), new HostOps(), "test", 8)) {
            e.computeGradient(EngineParity.batch(0, 8));
            assertTrue(e.convolutionPath().startsWith("0/2 convolutions direct"), e.convolutionPath());
            assertEquals(2, e.convolutionPaths().size(), e.convolutionPaths().toString());
            e.convolutionPaths().values().forEach(how -> assertEquals("im2col+GEMM", how));
        }
    }
}
