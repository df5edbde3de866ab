package io.qsync.lowprec.ops;

/**
 * Geometry of a 2-D convolution in NCHW layout (DL4J's {@code ConvolutionLayer} conventions: for
 * {@code Same} mode the padding is the top-left padding and im2col pads the bottom-right).
 *
 * @param kH       kernel height
 * @param kW       kernel width
 * @param sH       stride along height
 * @param sW       stride along width
 * @param pH       (top) padding along height
 * @param pW       (left) padding along width
 * @param dH       dilation along height
 * @param dW       dilation along width
 * @param sameMode whether DL4J's {@code ConvolutionMode.Same} is used
 * @param inH      input height
 * @param inW      input width
 * @param outH     output height
 * @param outW     output width
 */
public record Conv2dGeometry(
        int kH,
        int kW,
        int sH,
        int sW,
        int pH,
        int pW,
        int dH,
        int dW,
        boolean sameMode,
        int inH,
        int inW,
        int outH,
        int outW) {}
