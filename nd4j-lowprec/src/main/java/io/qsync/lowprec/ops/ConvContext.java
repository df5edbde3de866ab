package io.qsync.lowprec.ops;

import io.qsync.lowprec.quant.QuantizedTensor;

/**
 * What a low-precision convolution keeps for backward: the input (NCHW) and the reshaped weights
 * {@code [inC·kH·kW, outC]} at the layer's precision, and the geometry. The im2col matrix is rebuilt
 * from the saved input when needed (quantization commutes with im2col: padding adds exact zeros).
 *
 * @param input       saved input codes and scale, NCHW
 * @param weight      saved weight codes and scale(s), {@code [inC·kH·kW, outC]}
 * @param geometry    convolution geometry
 * @param miniBatch   batch size
 * @param inChannels  input channels
 * @param outChannels output channels
 */
public record ConvContext(
        QuantizedTensor input,
        QuantizedTensor weight,
        Conv2dGeometry geometry,
        long miniBatch,
        long inChannels,
        long outChannels) {

    /** @return bytes kept for backward at the layer's precision: input activation plus weights */
    public long savedBytes() {
        return input.storageBytes() + weight.storageBytes();
    }

    /**
     * @return bytes the emulation really holds for this context: the code arrays of input and weights at their
     *         array data type (FP32 on the CPU emulation), scales not counted
     */
    public long heldBytes() {
        return input.codes().length() * input.codes().dataType().width()
                + weight.codes().length() * weight.codes().dataType().width();
    }
}
