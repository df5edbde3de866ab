package io.qsync.lowprec.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the INT8 convolution's forward spends its time (RESULTS §11f: 2.7-3.7× the FP16 forward): each of its kernels
 * ({@link CudnnInt8Convolution#FORWARD_KERNELS}) timed alone with CUDA events, beside the whole INT8 forward and the
 * FP16 and FP32 cuDNN forwards of the same layer, for the VGG-style CNN's six 3×3 convolutions. Lives in the CUDA
 * package to reach the convolution's per-kernel timing; run by {@code CudaEngineBench int8-kernels}.
 */
public final class Int8ConvolutionKernelsBench {
    private static final int WARMUP = 5;
    private static final int REPEATS = 20;
    /** The VGG-style CNN's convolutions: input channels, height = width, output channels (3×3, stride 1, pad 1). */
    private static final int[][] LAYERS = {
        {1, 28, 64}, {64, 28, 64}, {64, 14, 128}, {128, 14, 128}, {128, 7, 256}, {256, 7, 256}
    };

    private Int8ConvolutionKernelsBench() {}

    /**
     * @param batches rows per forward to time, e.g. 256 (a hybrid worker's) and 1024 (issue 10's speed row)
     * @return one row per batch and layer: its shape, each INT8 kernel's median ms, the whole INT8 forward and the
     *         FP16 and FP32 cuDNN forwards (ms), or why a path was not offered
     */
    public static List<Map<String, Object>> rows(int... batches) {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (CudaTensorOps ops = CudaTensorOps.open(0, false, true);
                CudaTimer timer = new CudaTimer(ops.stream(), REPEATS)) {
            for (int batch : batches) {
                for (int[] l : LAYERS) {
                    ConvGeom g = new ConvGeom(l[0], l[1], l[1], 3, 3, 1, 1, 1, 1, l[1], l[1]);
                    rows.add(row(ops, timer, 20261207L + rows.size(), g, batch, l[2]));
                }
            }
        }
        return rows;
    }

    /** {@code n} floats of U(-1, 1) written on the card by the project's benchmark filler. */
    private static Tensor random(CudaTensorOps ops, long seed, String what, long n) {
        Tensor t = ops.allocate(what, n);
        ops.quantKernels().fillUniform(CudaTensor.of(t).buffer(), n, seed, 1f, ops.stream());
        return t;
    }

    private static Map<String, Object> row(
            CudaTensorOps ops, CudaTimer timer, long seed, ConvGeom g, int batch, int nOut) {
        Map<String, Object> row = new LinkedHashMap<>();
        String name = String.format(Locale.ROOT, "%dx%dx%dx%d -> %d", batch, g.c(), g.h(), g.w(), nOut);
        row.put("layer", name);
        Tensor x = random(ops, seed, "x", (long) batch * g.c() * g.inPlane());
        Tensor w = random(ops, seed + 1_000_000, "w", (long) nOut * g.patch());
        Tensor y = ops.allocate("y", (long) batch * nOut * g.outPlane());
        // the ops close every convolution they made (at the end: a few GB at 1 024 rows, far below the card's memory)
        try {
            Convolution int8 = ops.directConvolution(g, batch, nOut, Precision.INT8, Int8Quantizer.QSYNC_DEFAULT);
            if (int8 instanceof CudnnInt8Convolution c) {
                double[] ms = c.forwardKernelTimes(x, w, y, timer, WARMUP, REPEATS);
                Map<String, Double> kernels = new LinkedHashMap<>();
                for (int i = 0; i < ms.length; i++) {
                    kernels.put(CudnnInt8Convolution.FORWARD_KERNELS.get(i), ms[i]);
                }
                row.put("int8_kernels_ms", kernels);
                row.put("int8_forward_ms", timer.median("INT8 forward", WARMUP, REPEATS, () -> c.forward(x, w, y)));
            } else {
                row.put("int8_forward_ms", "not offered: " + ops.directConvolutionState());
            }
        } catch (RuntimeException e) {
            row.put("int8_forward_ms", "failed: " + e);
        }
        for (Precision p : new Precision[] {Precision.FP16, Precision.FP32}) {
            String key = p.name().toLowerCase(Locale.ROOT) + "_forward_ms";
            try {
                Convolution conv = ops.directConvolution(g, batch, nOut, p);
                row.put(
                        key,
                        conv == null
                                ? "no cuDNN convolution"
                                : timer.median(p + " forward", WARMUP, REPEATS, () -> conv.forward(x, w, y)));
            } catch (RuntimeException e) {
                row.put(key, "failed: " + e);
            }
        }
        System.out.printf(Locale.ROOT, "KERNELS %s%n", row);
        return row;
    }
}
