package io.qsync.lowprec.ops;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.QuantizedTensor;

/**
 * What a low-precision GEMM keeps from its forward pass for the backward pass: the input and the
 * weight in the layer's precision (codes plus scales; for FP32/TF32/BF16/FP16 the scale is 1 and the
 * codes are the rounded values).
 *
 * @param precision the precision the forward pass ran in
 * @param x         saved input operand {@code [M, K]}
 * @param w         saved weight operand {@code [K, N]}
 * @param stream    stochastic-rounding stream id used in forward (backward derives its own from it)
 */
public record GemmContext(Precision precision, QuantizedTensor x, QuantizedTensor w, long stream) {

    /** @return bytes kept for backward: input and weight at the layer precision's storage size */
    public long savedBytes() {
        return x.storageBytes() + w.storageBytes();
    }

    /** @return bytes the saved input alone occupies (the activation memory of the layer) */
    public long savedActivationBytes() {
        return x.storageBytes();
    }

    /**
     * @return bytes the emulation really holds for this context: the code arrays of input and weight at their
     *         array data type (FP32 on the CPU emulation), scales not counted
     */
    public long heldBytes() {
        return x.codes().length() * x.codes().dataType().width() + w.codes().length() * w.codes().dataType().width();
    }
}
