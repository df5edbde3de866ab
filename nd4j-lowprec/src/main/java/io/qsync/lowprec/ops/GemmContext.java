package io.qsync.lowprec.ops;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.QuantizedTensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a low-precision GEMM keeps from its forward pass for the backward pass: the input and the
 * weight in the layer's precision (codes plus scales; for FP32/TF32/BF16/FP16 the scale is 1 and the
 * codes are the rounded values).
 *
 * @param precision the precision the forward pass ran in
 * @param x         saved input operand {@code [M, K]}
 * @param w         saved weight operand {@code [K, N]}
 * @param stream    stochastic-rounding stream id used in forward (backward derives its own from it)
 * @param xBackward INT8 only, optional: the backward (FP16-dequantized) form of {@code x}, written by the
 *                  forward pass in the same pass as the codes; null = derive it from the codes in backward
 * @param wBackward the same for {@code w}
 */
public record GemmContext(
        Precision precision,
        QuantizedTensor x,
        QuantizedTensor w,
        long stream,
        INDArray xBackward,
        INDArray wBackward) {

    /** A context without precomputed backward operands. */
    public GemmContext(Precision precision, QuantizedTensor x, QuantizedTensor w, long stream) {
        this(precision, x, w, stream, null, null);
    }

    /**
     * @return bytes kept for backward: input and weight at the layer precision's storage size (the FP16
     *         backward copies are an artefact of the CPU emulation, which stores FP16 values in FP32
     *         arrays, and are not counted; QSync keeps only the INT8 codes)
     */
    public long savedBytes() {
        return x.storageBytes() + w.storageBytes();
    }

    /** @return bytes the saved input alone occupies (the activation memory of the layer) */
    public long savedActivationBytes() {
        return x.storageBytes();
    }

    /**
     * @return bytes the emulation really holds for this context: the code arrays of input and weight at their
     *         array data type (FP32 on the CPU emulation), plus the FP16 backward copies if present; scales not counted
     */
    public long heldBytes() {
        return x.codes().length() * x.codes().dataType().width()
                + w.codes().length() * w.codes().dataType().width()
                + (xBackward == null
                        ? 0
                        : xBackward.length() * xBackward.dataType().width())
                + (wBackward == null
                        ? 0
                        : wBackward.length() * wBackward.dataType().width());
    }
}
