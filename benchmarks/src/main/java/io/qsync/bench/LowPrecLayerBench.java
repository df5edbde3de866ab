package io.qsync.bench;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.layers.SwitchableLayers;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.MirroringPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Forward+backward time of one layer, batch 64: DL4J's built-in layer versus the switchable layer at
 * FP32, INT8 and FP16. Shapes: dense 1024→1024; conv 3×3 (pad 1) 32→64 channels on 16×16.
 * The layer is called directly (no loss, no updater) inside one reused workspace, as in training.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx3g"}) // more heap than JmhDefaults' 2 GiB
public class LowPrecLayerBench extends JmhDefaults {
    /** Layer shape. */
    @Param({"dense", "conv"})
    public String shape;

    /** builtin = DL4J's layer; otherwise the switchable layer at that precision. */
    @Param({"builtin", "FP32", "INT8", "FP16"})
    public String variant;

    /** Workspace like DL4J's training workspaces: learns its size in the first loop, then reuses it. */
    static final WorkspaceConfiguration WS_CONF = WorkspaceConfiguration.builder()
            .initialSize(0)
            .overallocationLimit(0.02)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyMirroring(MirroringPolicy.FULL)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    static final String WS_ID = "LOWPREC_BENCH_WS";

    private Layer layer;
    private INDArray input;
    private INDArray epsilon;
    private final LayerWorkspaceMgr mgr = workspaceMgr();

    /** @return a workspace manager putting every array type in one reused workspace (as in training) */
    static LayerWorkspaceMgr workspaceMgr() {
        return LayerWorkspaceMgr.builder().defaultWorkspace(WS_ID, WS_CONF).build();
    }

    /**
     * One forward+backward pass of {@code layer} inside the benchmark workspace.
     *
     * @return the sum of the input gradient (forces the result)
     */
    static double step(Layer layer, LayerWorkspaceMgr mgr, INDArray input, INDArray epsilon) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS_CONF, WS_ID)) {
            layer.setInput(input, mgr);
            layer.activate(true, mgr);
            Pair<?, INDArray> p = layer.backpropGradient(epsilon, mgr);
            return p.getSecond().getDouble(0);
        }
    }

    /** Builds the layer and random data. */
    @Setup
    public void setup() {
        Nd4j.getRandom().setSeed(1);
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(1)
                .dataType(DataType.FLOAT)
                .list();
        if (shape.equals("dense")) {
            b.layer(new DenseLayer.Builder()
                            .nIn(1024)
                            .nOut(1024)
                            .activation(Activation.RELU)
                            .build())
                    .layer(new OutputLayer.Builder()
                            .nOut(2)
                            .activation(Activation.SOFTMAX)
                            .build())
                    .setInputType(InputType.feedForward(1024));
            input = Nd4j.randn(DataType.FLOAT, 64, 1024);
            epsilon = Nd4j.randn(DataType.FLOAT, 64, 1024);
        } else {
            b.layer(new ConvolutionLayer.Builder(3, 3)
                            .padding(1, 1)
                            .nIn(32)
                            .nOut(64)
                            .activation(Activation.RELU)
                            .build())
                    .layer(new OutputLayer.Builder()
                            .nOut(2)
                            .activation(Activation.SOFTMAX)
                            .build())
                    .setInputType(InputType.convolutional(16, 16, 32));
            input = Nd4j.randn(DataType.FLOAT, 64, 32, 16, 16);
            epsilon = Nd4j.randn(DataType.FLOAT, 64, 64, 16, 16);
        }
        layer = layerFor(b.build(), variant);
    }

    /**
     * @param conf    network configuration whose layer 0 is benchmarked
     * @param variant "builtin" or a {@link Precision} name
     * @return layer 0 of the initialised (and, unless builtin, converted) network, gradient views set up
     */
    static Layer layerFor(MultiLayerConfiguration conf, String variant) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        if (!variant.equals("builtin")) {
            net = SwitchableLayers.convert(net);
            ((PrecisionSwitchable) net.getLayer(0)).setPrecision(Precision.valueOf(variant));
        }
        net.initGradientsView();
        return net.getLayer(0);
    }

    /**
     * @return one element of the input gradient (consumed by JMH)
     */
    @Benchmark
    public double forwardBackward() {
        return step(layer, mgr, input, epsilon);
    }
}
