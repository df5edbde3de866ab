package io.qsync.lowprec.cuda;

/**
 * A 2-D convolution as im2col + GEMM: input {@code [batch, inC, inH, inW]} (NCHW), weight {@code [outC, inC, kH, kW]},
 * GEMM {@code M = batch·outH·outW}, {@code N = outC}, {@code K = inC·kH·kW}.
 *
 * @param batch   batch size
 * @param inC     input channels
 * @param inH     input height
 * @param inW     input width
 * @param outC    output channels
 * @param kH      kernel height
 * @param kW      kernel width
 * @param strideH stride
 * @param strideW stride
 * @param padH    zero padding
 * @param padW    zero padding
 */
public record ConvShape(
        int batch, int inC, int inH, int inW, int outC, int kH, int kW, int strideH, int strideW, int padH, int padW) {
    /** @return output height */
    public int outH() {
        return (inH + 2 * padH - kH) / strideH + 1;
    }

    /** @return output width */
    public int outW() {
        return (inW + 2 * padW - kW) / strideW + 1;
    }

    /** @return GEMM M */
    public long m() {
        return (long) batch * outH() * outW();
    }

    /** @return GEMM K before padding */
    public int k() {
        return inC * kH * kW;
    }
}
