package io.qsync.lowprec.cuda;

import io.qsync.lowprec.train.ConvGeom;

/**
 * Launchers of the training kernels ({@code train_kernels.cu}, compiled by NVRTC for the device): grid sizes and
 * argument order in one place. All launches enqueue on the given stream and return at once.
 */
final class TrainKernels implements AutoCloseable {
    static final int BLOCK = 256;
    private final KernelModule module;
    private final int maxBlocks;
    private final CudaStream s;

    TrainKernels(CudaDevice device, CudaStream stream) {
        module = new KernelModule("train_kernels.cu", source(), device.facts());
        maxBlocks = device.facts().smCount() * 16;
        s = stream;
    }

    /** The CUDA source of the kernels. */
    static String source() {
        return KernelModule.resourceText("train_kernels.cu");
    }

    private long grid(long work) {
        return Math.max(1, Math.min(maxBlocks, (work + BLOCK - 1) / BLOCK));
    }

    /** A grid-stride kernel over {@code work} elements. */
    void each(String kernel, long work, Object... args) {
        module.launch(kernel, grid(work), BLOCK, 0, s, args);
    }

    /** One block per item ({@code blocks} of them). */
    void perBlock(String kernel, long blocks, Object... args) {
        module.launch(kernel, blocks, BLOCK, 0, s, args);
    }

    /** Blocks the two-stage bias sum aims for, whatever the device: its split, and so its rounding, follows the shapes. */
    static final int SUM_BIAS_BLOCKS = 1024;

    /**
     * The bias gradient {@code db[c] = Σ dy[o, c, i]} over {@code outer × inner}: in two fixed-order stages through
     * {@code parts} ({@code capacity} doubles) when the channels alone would leave SMs idle, else one block per channel.
     */
    void sumBias(DeviceBuffer dy, DeviceBuffer db, int outer, int ch, int inner, DeviceBuffer parts, long capacity) {
        int rows = splitRows(outer, ch, capacity);
        if (rows == 0) {
            perBlock("sum_bias", ch, dy, db, outer, ch, inner);
            return;
        }
        int splits = (outer + rows - 1) / rows;
        module.launch3("sum_bias_part", ch, splits, BLOCK, 0, s, dy, parts, outer, ch, inner, rows);
        each("sum_bias_fold", ch, parts, db, ch, splits);
    }

    /**
     * {@code dz = dy * f'(z)} and its bias gradient in one pass ({@code act_bwd_sum_bias_part}, the same sums in the
     * same order as {@link #sumBias}); false, with nothing launched, where the bias sum runs one block per channel.
     */
    boolean actBackwardSumBias(
            int act,
            float alpha,
            DeviceBuffer z,
            DeviceBuffer dy,
            DeviceBuffer dz,
            DeviceBuffer db,
            int outer,
            int ch,
            int inner,
            DeviceBuffer parts,
            long capacity) {
        int rows = splitRows(outer, ch, capacity);
        if (rows == 0) {
            return false;
        }
        int splits = (outer + rows - 1) / rows;
        module.launch3(
                "act_bwd_sum_bias_part", ch, splits, BLOCK, 0, s, act, alpha, z, dy, dz, parts, outer, ch, inner, rows);
        each("sum_bias_fold", ch, parts, db, ch, splits);
        return true;
    }

    /** Rows of {@code outer} per block of the two-stage bias sum, or 0 when one block per channel is used. */
    private static int splitRows(int outer, int ch, long capacity) {
        int splits = (int) Math.min(outer, Math.max(1, Math.min(capacity / ch, (SUM_BIAS_BLOCKS + ch - 1) / ch)));
        return splits <= 1 ? 0 : (outer + splits - 1) / splits;
    }

    /** The largest patch ({@code C·KH·KW}) of the small-patch convolution kernels ({@code SMALL_PATCH} in the source). */
    static final int SMALL_PATCH = 9;

    /** Output channels per block of the small-patch filter gradient ({@code WG_KC} in the source). */
    static final int SMALL_WGRAD_CHANNELS = 4;

    /** Blocks the small-patch filter gradient aims for: its split, and so its rounding, follows the shapes. */
    static final int SMALL_WGRAD_BLOCKS = 1024;

    /** {@code y = conv(x, w)} for a patch of at most {@link #SMALL_PATCH}: one thread per output position. */
    void smallConvForward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int batch, int nOut, ConvGeom g) {
        each("conv_small_fwd", (long) batch * g.outPlane(), concat(new Object[] {x, w, y, batch, nOut}, geom(g, true)));
    }

    /**
     * The filter gradient {@code dw[k, r]} (overwritten) for a patch of at most {@link #SMALL_PATCH}, in two
     * fixed-order stages through {@code parts} ({@code capacity} doubles); false, with nothing launched, when the
     * {@code nOut × patch} sums do not fit there.
     */
    boolean smallConvFilterGrad(
            DeviceBuffer x,
            DeviceBuffer dy,
            DeviceBuffer dw,
            int batch,
            int nOut,
            ConvGeom g,
            DeviceBuffer parts,
            long capacity) {
        int sums = nOut * g.patch();
        long fit = capacity / sums;
        if (fit < 1) {
            return false;
        }
        int chunks = (nOut + SMALL_WGRAD_CHANNELS - 1) / SMALL_WGRAD_CHANNELS;
        int splits = (int) Math.min(batch, Math.min(fit, (SMALL_WGRAD_BLOCKS + chunks - 1) / chunks));
        int rows = (batch + splits - 1) / splits;
        splits = (batch + rows - 1) / rows;
        Object[] args = concat(concat(new Object[] {x, dy, parts, batch, nOut}, geom(g, true)), new Object[] {rows});
        module.launch3("conv_small_wgrad_part", chunks, splits, BLOCK, 0, s, args);
        each("sum_bias_fold", sums, parts, dw, sums, splits);
        return true;
    }

    /**
     * Whether pooling windows of {@code g} tile the plane (stride = kernel, no padding, as many windows as fit): then
     * the backward pass runs one thread per window ({@code pool_bwd_tiled}) instead of gathering per element.
     */
    static boolean tiles(ConvGeom g) {
        return g.sh() == g.kh()
                && g.sw() == g.kw()
                && g.padTop() == 0
                && g.padLeft() == 0
                && g.oh() == g.h() / g.kh()
                && g.ow() == g.w() / g.kw();
    }

    /** The geometry arguments every window kernel takes after its buffers. */
    static Object[] geom(ConvGeom g, boolean withChannels) {
        Object[] tail = {g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.padTop(), g.padLeft(), g.oh(), g.ow()};
        if (!withChannels) {
            return tail;
        }
        Object[] out = new Object[tail.length + 1];
        out[0] = g.c();
        System.arraycopy(tail, 0, out, 1, tail.length);
        return out;
    }

    static Object[] concat(Object[] head, Object[] tail) {
        Object[] out = new Object[head.length + tail.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    @Override
    public void close() {
        module.close();
    }
}
