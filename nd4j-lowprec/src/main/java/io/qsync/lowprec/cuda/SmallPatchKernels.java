package io.qsync.lowprec.cuda;

import io.qsync.lowprec.train.ConvGeom;

/**
 * Convolutions whose patch ({@code C·KH·KW}) holds at most {@link TrainKernels#SMALL_PATCH} values, such as a first
 * layer over one channel, by our own kernels: cuDNN's deterministic algorithms leave most of the device idle there
 * (the VGG-style CNN's first layer at batch 1 024 on an H100, TF32: cuDNN 0.40 ms forward and 1.16 ms backward, these
 * kernels 0.24 and 0.64 ms; {@code benchmarks/RESULTS.md} §11i).
 * {@link CudnnConvolution} calls them in place of cuDNN's forward and backward filter on the operands it would pass
 * to cuDNN (already rounded for TF32, FP16 and BF16 layers), so the arithmetic is the same up to the order of the
 * sums, which is fixed by the shapes: results stay deterministic. The filter gradient's partial sums live in scratch
 * owned by the caller ({@link CudaTensorOps}), used in stream order.
 */
final class SmallPatchKernels {
    private final TrainKernels k;
    private final DeviceBuffer parts;
    private final long capacity;

    /**
     * @param parts scratch for partial sums, {@code capacity} doubles, shared with other stream-ordered users
     */
    SmallPatchKernels(TrainKernels k, DeviceBuffer parts, long capacity) {
        this.k = k;
        this.parts = parts;
        this.capacity = capacity;
    }

    /** Whether {@code g}'s patch is small enough for these kernels. */
    static boolean applies(ConvGeom g) {
        return g.patch() <= TrainKernels.SMALL_PATCH;
    }

    /** {@code y = conv(x, w)} (overwritten). */
    void forward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int batch, int nOut, ConvGeom g) {
        k.smallConvForward(x, w, y, batch, nOut, g);
    }

    /** The filter gradient (overwritten); false, with nothing launched, when its sums do not fit the scratch. */
    boolean filterGrad(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, int batch, int nOut, ConvGeom g) {
        return k.smallConvFilterGrad(x, dy, dw, batch, nOut, g, parts, capacity);
    }
}
