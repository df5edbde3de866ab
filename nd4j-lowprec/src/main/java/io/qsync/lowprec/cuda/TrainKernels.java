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
        int splits = (int) Math.min(outer, Math.max(1, Math.min(capacity / ch, (SUM_BIAS_BLOCKS + ch - 1) / ch)));
        if (splits <= 1) {
            perBlock("sum_bias", ch, dy, db, outer, ch, inner);
            return;
        }
        int rows = (outer + splits - 1) / splits;
        splits = (outer + rows - 1) / rows;
        module.launch3("sum_bias_part", ch, splits, BLOCK, 0, s, dy, parts, outer, ch, inner, rows);
        each("sum_bias_fold", ch, parts, db, ch, splits);
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
