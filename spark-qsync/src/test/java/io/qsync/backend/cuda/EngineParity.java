package io.qsync.backend.cuda;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.TrainingEngine;
import java.nio.FloatBuffer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Trains one network side by side on DL4J's CPU backend ({@link CpuEngine}) and on a {@link ProgramEngine} over some
 * {@link TensorOps}, on the same Fashion-MNIST batches, and measures how far the program engine drifts.
 */
public final class EngineParity {
    private static LabeledImages images;

    /**
     * @param paramRel    max |Δ| / max |p| over the parameters after the last step
     * @param liveRel     the same without the biases of convolutions and dense layers that feed a batch norm directly
     *                    (their exact gradient is 0: both engines move them by Adam-amplified rounding noise)
     * @param floorRel    DL4J against itself on the same batches with their rows reversed, and with them rotated by half
     *                    a batch (same maths, other summation orders), and (without a plan) DL4J in float against
     *                    DL4J in double ({@link ExactReference}): the largest, the float noise floor of this network
     * @param exactRel    without a plan: DL4J's float parameters against its double ones after the last step (else 0)
     * @param gradExact   without a plan: max |Δ| / max |g| of the first gradient against DL4J in double, DL4J's float
     *                    code first, then the program engine's (else 0, 0)
     * @param gradRel     max |Δ| / max |g| of the first step's gradient
     * @param gradFloor   the same for DL4J against itself on reversed rows
     * @param stateRel    max |Δ| / max |s| of the updater state after the last step (0 without state)
     * @param lossDiff    largest |Δ| of the per-step loss (score)
     * @param lossFloor   the same for DL4J against itself on reversed rows
     * @param outputRel   max |Δ| of the inference outputs after training
     * @param exportExact true if the exported DL4J model holds exactly the engine's parameters
     * @param worstParams the parameter block of the largest final |Δ| and how many values differ by more than 1e-4
     * @param worstGrad   the same for the first step's gradient
     */
    record Result(
            double paramRel,
            double liveRel,
            double floorRel,
            double exactRel,
            double[] gradExact,
            double gradRel,
            double gradFloor,
            double stateRel,
            double lossDiff,
            double lossFloor,
            double outputRel,
            boolean exportExact,
            String worstParams,
            String worstGrad) {
        @Override
        public String toString() {
            return String.format(
                    "params %.3g (without pre-BN biases %.3g; floor %.3g: DL4J vs DL4J on reordered rows or in "
                            + "double, float vs double %.3g; worst %s), first gradient %.3g (floor %.3g; vs double: "
                            + "DL4J %.3g, engine %.3g; worst %s), updater state %.3g, loss %.3g (floor %.3g), outputs "
                            + "%.3g",
                    paramRel,
                    liveRel,
                    floorRel,
                    exactRel,
                    worstParams,
                    gradRel,
                    gradFloor,
                    gradExact[0],
                    gradExact[1],
                    worstGrad,
                    stateRel,
                    lossDiff,
                    lossFloor,
                    outputRel);
        }
    }

    private EngineParity() {}

    static synchronized LabeledImages images() {
        if (images == null) {
            // the GPU machine has no /usr/share/datasets: the device script carries the files and names the folder
            String dir = System.getProperty("qsync.fashionMnist.dir");
            images = (dir == null
                            ? FashionMnist.load(FashionMnist.Split.TRAIN)
                            : FashionMnist.load(java.nio.file.Path.of(dir), FashionMnist.Split.TRAIN))
                    .head(4096);
        }
        return images;
    }

    static Model init(Object conf) {
        if (conf instanceof MultiLayerConfiguration c) {
            MultiLayerNetwork n = new MultiLayerNetwork(c);
            n.init();
            return n;
        }
        ComputationGraph g = new ComputationGraph((ComputationGraphConfiguration) conf);
        g.init();
        return g;
    }

    static HostBatch batch(int start, int rows) {
        LabeledImages im = images();
        int f = im.features();
        float[] x = new float[rows * f];
        float[] y = new float[rows * LabeledImages.NUM_CLASSES];
        for (int r = 0; r < rows; r++) {
            int i = (start + r) % im.count();
            im.copyFeatures(i, x, r * f);
            y[r * LabeledImages.NUM_CLASSES + im.label(i)] = 1f;
        }
        return new HostBatch(rows, f, x, LabeledImages.NUM_CLASSES, y);
    }

    private static float[] params(TrainingEngine e) {
        FloatBuffer b = FloatBuffer.allocate((int) e.numParams());
        e.readParams(b);
        return b.array();
    }

    private static float[] state(TrainingEngine e) {
        FloatBuffer b = FloatBuffer.allocate((int) e.updaterStateLength());
        e.readUpdaterState(b);
        return b.array();
    }

    private static float[] copy(FloatBuffer g) {
        float[] out = new float[g.remaining()];
        g.duplicate().get(out);
        return out;
    }

    static double rel(float[] ref, float[] got) {
        return rel(ref, got, new boolean[ref.length]);
    }

    /** max |Δ| / max |ref| over the elements not {@code skip}ped. */
    static double rel(float[] ref, float[] got, boolean[] skip) {
        if (ref.length != got.length) {
            throw new AssertionError("lengths " + ref.length + " vs " + got.length);
        }
        double maxRef = 0;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            if (skip[i]) {
                continue;
            }
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            double d = Math.abs((double) ref[i] - got[i]);
            maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(maxDiff, d);
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /**
     * The parameter block ({@code Model.paramTable()} key, DL4J's flat order) holding the largest |Δ|, and how many
     * values differ by more than 1e-4 of max |ref|: one ReLU unit flipping shows as one weight row.
     */
    static String worst(Model m, float[] ref, float[] got) {
        double maxRef = 0;
        int arg = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            if (Math.abs(ref[i] - got[i]) > Math.abs(ref[arg] - got[arg])) {
                arg = i;
            }
        }
        int beyond = 0;
        for (int i = 0; i < ref.length; i++) {
            beyond += Math.abs(ref[i] - got[i]) > 1e-4 * maxRef ? 1 : 0;
        }
        String key = "?";
        long off = 0;
        for (java.util.Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> e :
                m.paramTable().entrySet()) {
            long len = e.getValue().length();
            if (arg < off + len) {
                key = e.getKey() + "[" + (arg - off) + "]";
                break;
            }
            off += len;
        }
        return key + ", " + beyond + " values beyond 1e-4";
    }

    /** The same rows rotated by half a batch. */
    public static HostBatch rotated(HostBatch b) {
        int f = b.features().length / b.rows();
        int t = b.targets().length / b.rows();
        float[] x = new float[b.features().length];
        float[] y = new float[b.targets().length];
        for (int r = 0; r < b.rows(); r++) {
            int q = (r + b.rows() / 2) % b.rows();
            System.arraycopy(b.features(), r * f, x, q * f, f);
            System.arraycopy(b.targets(), r * t, y, q * t, t);
        }
        return new HostBatch(b.rows(), f, x, t, y);
    }

    /** The same rows in reverse order. */
    public static HostBatch reversed(HostBatch b) {
        int f = b.numFeatures();
        int t = b.numTargets();
        float[] x = new float[b.features().length];
        float[] y = new float[b.targets().length];
        for (int r = 0; r < b.rows(); r++) {
            int q = b.rows() - 1 - r;
            System.arraycopy(b.features(), r * f, x, q * f, f);
            System.arraycopy(b.targets(), r * t, y, q * t, t);
        }
        return new HostBatch(b.rows(), f, x, t, y);
    }

    /** Flat positions of biases whose layer output goes straight into a batch norm (identity activation). */
    static boolean[] deadBiases(Model model) {
        Program p = ProgramCompiler.compile(model, "test");
        boolean[] dead = new boolean[(int) p.numParams()];
        for (Step s : p.steps()) {
            if (!(s instanceof BatchNormStep bn)) {
                continue;
            }
            for (Step src : p.steps()) {
                if (!src.name().equals(bn.input())) {
                    continue;
                }
                long off = src instanceof ConvStep c && c.act() == io.qsync.lowprec.train.Act.IDENTITY
                        ? c.bOff()
                        : src instanceof DenseStep d && d.act() == io.qsync.lowprec.train.Act.IDENTITY ? d.bOff() : -1;
                for (int i = 0; off >= 0 && i < src.out().c(); i++) {
                    dead[(int) off + i] = true;
                }
            }
        }
        return dead;
    }

    /**
     * {@code steps} steps of {@code rows} examples on two program engines over fresh {@code ops}: one updates from the
     * host gradient ({@link TrainingEngine#applyUpdate}: a ring worker), the other from its own
     * ({@link TrainingEngine#applyLocalUpdate}: a one-worker job). Null when their parameters and updater states are
     * bitwise equal after every step and the parameters moved; otherwise what differs.
     */
    static String localUpdateDiffers(Object conf, java.util.function.Supplier<TensorOps> ops, int rows, int steps) {
        ModelSpec spec = ModelSpec.of(init(conf));
        float[] start = spec.restore().params().data().asFloat();
        try (ProgramEngine ring = ProgramEngine.open(spec.restore(), ops.get(), "ring", rows);
                ProgramEngine local = ProgramEngine.open(spec.restore(), ops.get(), "local", rows)) {
            for (int s = 0; s < steps; s++) {
                HostBatch b = batch(s * rows, rows);
                ring.computeGradient(b);
                local.computeGradient(b);
                ring.applyUpdate(rows, 0);
                local.applyLocalUpdate(rows, 0);
                if (!java.util.Arrays.equals(params(ring), params(local))) {
                    return "parameters differ after step " + s + ": " + rel(params(ring), params(local));
                }
                if (!java.util.Arrays.equals(state(ring), state(local))) {
                    return "updater states differ after step " + s;
                }
            }
            return java.util.Arrays.equals(start, params(local)) ? "the parameters did not move" : null;
        }
    }

    /** {@code steps} steps of {@code rows} examples from the same initialized network on both engines. */
    static Result run(Object conf, TensorOps ops, int rows, int steps) {
        return run(conf, null, ops, rows, steps);
    }

    /** The network converted to switchable layers with {@code plan} applied (unchanged when the plan is null). */
    static Model planned(Model m, io.qsync.lowprec.layers.PrecisionPlan plan) {
        return plan == null ? m : plan.applyToSwitchableCopy(m);
    }

    /**
     * As {@link #run(Object, TensorOps, int, int)} with a precision plan on both sides: the program engine against
     * DL4J running the same plan in the CPU emulation (the switchable layers).
     */
    static Result run(Object conf, io.qsync.lowprec.layers.PrecisionPlan plan, TensorOps ops, int rows, int steps) {
        // the reference is DL4J's own layer code, not the oneDNN helpers (same maths, other float rounding)
        org.nd4j.linalg.factory.Nd4j.getEnvironment().allowHelpers(false);
        ModelSpec spec = ModelSpec.of(init(conf));
        try (CpuEngine cpu = CpuEngine.of(planned(spec.restore(), plan));
                CpuEngine floor = CpuEngine.of(planned(spec.restore(), plan));
                CpuEngine floor2 = CpuEngine.of(planned(spec.restore(), plan));
                ProgramEngine prog = ProgramEngine.open(planned(spec.restore(), plan), ops, "test", rows)) {
            java.util.List<HostBatch> batches = new java.util.ArrayList<>();
            for (int s = 0; s < steps; s++) {
                batches.add(batch(s * rows, rows));
            }
            ExactReference exact = plan == null ? ExactReference.train(spec.restore(), batches) : null;
            double lossDiff = 0;
            double lossFloor = 0;
            double[] gradExact = new double[2];
            double gradRel = 0;
            double gradFloor = 0;
            String worstGrad = "";
            for (int s = 0; s < steps; s++) {
                HostBatch b = batches.get(s);
                double lc = cpu.computeGradient(b);
                double lp = prog.computeGradient(b);
                double lf = floor.computeGradient(reversed(b));
                double lf2 = floor2.computeGradient(rotated(b));
                lossDiff = Math.max(lossDiff, Math.abs(lc - lp));
                lossFloor = Math.max(lossFloor, Math.max(Math.abs(lc - lf), Math.abs(lc - lf2)));
                if (exact != null) {
                    lossFloor = Math.max(lossFloor, Math.abs(lc - exact.losses()[s]));
                }
                if (s == 0) {
                    float[] gc = copy(cpu.gradient());
                    gradRel = rel(gc, copy(prog.gradient()));
                    gradFloor = Math.max(rel(gc, copy(floor.gradient())), rel(gc, copy(floor2.gradient())));
                    worstGrad = worst(spec.restore(), gc, copy(prog.gradient()));
                    if (exact != null) {
                        gradExact[0] = rel(exact.firstGradient(), gc);
                        gradExact[1] = rel(exact.firstGradient(), copy(prog.gradient()));
                        gradFloor = Math.max(gradFloor, gradExact[0]);
                    }
                }
                floor.applyUpdate(rows, 0);
                floor2.applyUpdate(rows, 0);
                cpu.applyUpdate(rows, 0);
                prog.applyUpdate(rows, 0);
            }
            float[] pc = params(cpu);
            float[] pp = params(prog);
            double stateRel = cpu.updaterStateLength() == 0 ? 0 : rel(state(cpu), state(prog));
            HostBatch probe = batch(3000, Math.min(rows, 8));
            double outRel = rel(cpu.output(probe), prog.output(probe));
            Model exported = prog.exportModel();
            float[] ex = exported.params().data().asFloat();
            boolean[] dead = deadBiases(spec.restore());
            double exactRel = exact == null ? 0 : rel(exact.params(), pc);
            return new Result(
                    rel(pc, pp),
                    rel(pc, pp, dead),
                    Math.max(exactRel, Math.max(rel(pc, params(floor)), rel(pc, params(floor2)))),
                    exactRel,
                    gradExact,
                    gradRel,
                    gradFloor,
                    stateRel,
                    lossDiff,
                    lossFloor,
                    outRel,
                    java.util.Arrays.equals(ex, pp),
                    worst(spec.restore(), pc, pp),
                    worstGrad);
        }
    }
}
