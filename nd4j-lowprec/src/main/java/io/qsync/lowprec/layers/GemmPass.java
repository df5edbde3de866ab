package io.qsync.lowprec.layers;

import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import java.util.Arrays;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The steps of a low-precision forward pass that the dense and the output layer implementations share. */
final class GemmPass {
    private GemmPass() {}

    /**
     * @param input    the layer input
     * @param dataType the network's data type
     * @param w        the weights {@code [nIn, nOut]}
     * @param layer    the layer's description for the error message (e.g. "Dense layer (layer name: ...)")
     * @return the input cast to {@code dataType}
     * @throws DL4JInvalidInputException unless the input is {@code [minibatch, nIn]}
     */
    static INDArray input(INDArray input, DataType dataType, INDArray w, String layer) {
        INDArray in = input.castTo(dataType);
        if (in.rank() != 2 || in.columns() != w.rows()) {
            throw new DL4JInvalidInputException(
                    layer + " expects input [minibatch, " + w.rows() + "], got " + Arrays.toString(in.shape()));
        }
        return in;
    }

    /**
     * Prepares the operands (outside workspaces for a training pass, with the FP16 backward copies) and writes
     * {@code X·W + b} into {@code out}; records the bytes saved for backward in {@code state}.
     *
     * @param state    the layer's state
     * @param op       the layer's op for this pass
     * @param training whether it is a training pass
     * @param in       input {@code [M, K]}
     * @param w        weights {@code [K, N]}
     * @param b        bias or null
     * @param stream   stochastic-rounding stream id
     * @param out      result {@code [M, N]}
     * @return the saved operands
     */
    static GemmContext forward(
            LowPrecisionState<GemmContext> state,
            LowPrecisionGemm op,
            boolean training,
            INDArray in,
            INDArray w,
            INDArray b,
            long stream,
            INDArray out) {
        GemmContext ctx =
                training ? ForwardCache.detached(() -> op.prepare(in, w, stream, true)) : op.prepare(in, w, stream);
        op.forward(ctx, b, out);
        state.recordSaved(ctx.savedBytes());
        return ctx;
    }
}
