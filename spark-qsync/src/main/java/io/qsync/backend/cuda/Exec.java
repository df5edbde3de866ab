package io.qsync.backend.cuda;

import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Im2colConvolution;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The buffers a program runs over: flat parameters and gradient (DL4J's layout), one output and one gradient
 * buffer per node sized for the largest batch, and named scratch. A node's gradient is written by its first
 * consumer in backward order and accumulated by the others ({@link #gradInTarget}, {@link #gradInDone}).
 */
final class Exec {
    private final TensorOps ops;
    private final Tensor params;
    private final Tensor grads;
    private final java.util.TreeMap<Long, Long> gradWritten = new java.util.TreeMap<>();
    private final int maxRows;
    private final String input;
    private final Map<String, Shape> shapes;
    private final Map<String, Tensor> outs = new HashMap<>();
    private final Map<String, Tensor> gradBufs = new HashMap<>();
    private final Map<String, Tensor> scratch = new HashMap<>();
    private final Set<String> written = new HashSet<>();
    private final Map<String, io.qsync.lowprec.train.LowPrecisionLinear> linears = new HashMap<>();
    private final Map<String, Convolution> convolutions = new HashMap<>();
    private final Map<String, ConvolutionPath> convolutionPaths = new TreeMap<>();
    private int rows;

    Exec(TensorOps ops, Tensor params, Tensor grads, int maxRows, String input, Map<String, Shape> shapes) {
        this.ops = ops;
        this.params = params;
        this.grads = grads;
        this.maxRows = maxRows;
        this.input = input;
        this.shapes = shapes;
    }

    TensorOps ops() {
        return ops;
    }

    int rows() {
        return rows;
    }

    int maxRows() {
        return maxRows;
    }

    /** Starts a pass over {@code n} examples; forgets which gradients were written. */
    void begin(int n) {
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("batch of " + n + " rows; this engine was opened for at most " + maxRows
                    + " (raise the engine's batch size)");
        }
        rows = n;
        written.clear();
    }

    private Tensor perExample(Map<String, Tensor> map, String key, String what, int size) {
        Tensor full = map.computeIfAbsent(key, k -> ops.allocate(what + " " + k, (long) maxRows * size));
        return ops.slice(full, 0, (long) rows * size);
    }

    private Shape shape(String node) {
        Shape s = shapes.get(node);
        if (s == null) {
            throw new IllegalStateException("no node " + node);
        }
        return s;
    }

    /** The node's output for the current rows. */
    Tensor out(String node) {
        return perExample(outs, node, "activations of", shape(node).size());
    }

    /** A per-example scratch buffer ({@code size} floats per example) that lives as long as the engine. */
    Tensor perExample(String key, int size) {
        return perExample(scratch, key, "scratch", size);
    }

    /** A scratch buffer of at least {@code length} floats, viewed as exactly {@code length}; grows when needed. */
    Tensor scratch(String key, long length) {
        Tensor t = scratch.get(key);
        if (t == null || t.length() < length) {
            t = ops.allocate("scratch " + key, length);
            scratch.put(key, t);
        }
        return ops.slice(t, 0, length);
    }

    /** The low-precision GEMM of layer {@code layer} (created on first use; its ops close it). */
    io.qsync.lowprec.train.LowPrecisionLinear linear(String layer, LayerPrecision p) {
        return linears.computeIfAbsent(layer, k -> ops.lowPrecisionLinear(p.precision(), p.int8(), p.rngStream()));
    }

    /**
     * The convolution of layer {@code layer} for the current rows (created on first use per batch size): the ops' own
     * ({@link TensorOps#directConvolution}, e.g. cuDNN) where they offer one, else im2col + GEMM over this scratch for
     * FP32 layers, else null (a lowered layer without a direct convolution: its {@link #linear}). The path taken is
     * remembered for {@link #convolutionPaths}.
     */
    Convolution convolution(String layer, ConvGeom g, int nOut, LayerPrecision p) {
        String key = layer + "@" + rows;
        if (!convolutions.containsKey(key)) { // null values too: a lowered layer without a direct convolution
            Convolution c = ops.directConvolution(g, rows, nOut, p.precision(), p.int8());
            if (c == null && !p.lowered()) {
                c = new Im2colConvolution(ops, g, rows, nOut, this::scratch);
            }
            convolutions.put(key, c);
        }
        Convolution c = convolutions.get(key);
        convolutionPaths.put(layer, ConvolutionPath.of(c, p));
        return c;
    }

    /** How each convolution layer ran in the latest pass, by layer name. */
    java.util.SortedMap<String, ConvolutionPath> convolutionPaths() {
        return new TreeMap<>(convolutionPaths);
    }

    /** Forgets the low-precision GEMMs and convolutions (the program was recompiled with other precisions). */
    void forgetLinears() {
        linears.clear();
        convolutions.clear();
        convolutionPaths.clear();
    }

    /** Parameters {@code [offset, offset + length)} of the flat vector. */
    Tensor param(long offset, long length) {
        return ops.slice(params, offset, length);
    }

    /** Gradient {@code [offset, offset + length)} of the flat vector; remembered as written this pass. */
    Tensor paramGrad(long offset, long length) {
        gradWritten.merge(offset, offset + length, Math::max);
        return ops.slice(grads, offset, length);
    }

    /** Forgets which parameter gradients were written (the start of a backward pass). */
    void clearGradientsWritten() {
        gradWritten.clear();
    }

    /**
     * The smallest {@code k} such that every gradient element in {@code [k, n)} was handed to a step of this backward
     * pass (so is final once that step's work has run): DL4J lays parameters out in forward order, so the backward
     * pass finishes the vector from its end.
     */
    long gradientFinalFrom(long n) {
        long k = n;
        for (Map.Entry<Long, Long> e : gradWritten.descendingMap().entrySet()) {
            if (e.getKey() < k && e.getValue() >= k) {
                k = e.getKey(); // by falling start: a range skipped now ends up inside the suffix or past a gap
            }
        }
        return k;
    }

    /** The loss gradient w.r.t. the node's output (zero if no consumer wrote it). */
    Tensor gradOut(String node) {
        Tensor g = perExample(gradBufs, node, "gradient of", shape(node).size());
        if (written.add(node)) {
            ops.fill(g, 0f);
        }
        return g;
    }

    /**
     * Where a consumer writes (overwrites) its gradient for {@code producer}'s output, or null if the producer is the
     * network input (no gradient needed). Pass it to {@link #gradInDone} afterwards.
     */
    Tensor gradInTarget(String producer) {
        if (producer.equals(input)) {
            return null;
        }
        if (!written.contains(producer)) {
            return perExample(gradBufs, producer, "gradient of", shape(producer).size());
        }
        return perExample("gradsum:" + producer, shape(producer).size());
    }

    /** Marks {@code producer}'s gradient written, adding {@code target} into it if it was a second contribution. */
    void gradInDone(String producer, Tensor target) {
        if (target == null) {
            return;
        }
        if (!written.add(producer)) {
            Tensor g = perExample(
                    gradBufs, producer, "gradient of", shape(producer).size());
            ops.add(g, target, g);
        }
    }
}
