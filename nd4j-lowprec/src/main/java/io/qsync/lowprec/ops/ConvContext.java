package io.qsync.lowprec.ops;

/**
 * What a low-precision convolution keeps for backward: the GEMM context on the im2col matrix plus
 * the geometry and sizes needed to fold gradients back.
 *
 * @param gemm       saved GEMM operands (im2col of the input, reshaped weights)
 * @param geometry   convolution geometry
 * @param miniBatch  batch size
 * @param inChannels input channels
 * @param outChannels output channels
 */
public record ConvContext(GemmContext gemm, Conv2dGeometry geometry, long miniBatch, long inChannels, long outChannels) {

    /**
     * Bytes the layer keeps for backward at its precision: the input activation
     * ({@code N·C·H·W} elements; im2col is recomputable) and the weights.
     *
     * @return saved bytes
     */
    public long savedBytes() {
        long inputElems = miniBatch * inChannels * geometry.inH() * geometry.inW();
        return gemm.x().precision().bytesFor(inputElems) + gemm.w().storageBytes();
    }
}
