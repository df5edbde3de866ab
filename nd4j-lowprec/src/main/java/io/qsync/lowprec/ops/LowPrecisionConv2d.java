package io.qsync.lowprec.ops;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.QuantizedTensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 2-D convolution (NCHW, weights {@code [outC, inC, kH, kW]}) as im2col + {@link LowPrecisionGemm},
 * with the same im2col/col2im layout as DL4J's {@code ConvolutionLayer}. The input is rounded or
 * quantized (per tensor) <em>before</em> im2col, which equals quantizing the im2col matrix (padding
 * adds exact zeros) at a fraction of the cost; per-output-channel weight scales map to the GEMM's
 * output columns.
 */
public final class LowPrecisionConv2d {
    private final LowPrecisionGemm gemm;

    /**
     * @param precision layer precision
     * @param int8      INT8 quantizer settings (used only for {@link Precision#INT8})
     */
    public LowPrecisionConv2d(Precision precision, Int8Quantizer int8) {
        this(precision, int8, ArrayAllocator.FRESH);
    }

    /**
     * @param precision layer precision
     * @param int8      INT8 quantizer settings (used only for {@link Precision#INT8})
     * @param alloc     allocator for saved operands, its {@link ArrayAllocator#scratch()} for im2col buffers and
     *                  backward temporaries
     */
    public LowPrecisionConv2d(Precision precision, Int8Quantizer int8, ArrayAllocator alloc) {
        this.gemm = new LowPrecisionGemm(precision, int8, alloc);
    }

    /** @return the underlying GEMM op */
    public LowPrecisionGemm gemm() {
        return gemm;
    }

    /**
     * Rounds/quantizes the operands of a forward pass (the input before im2col).
     *
     * @param input  NCHW FP32 input
     * @param w      weights {@code [outC, inC, kH, kW]} (c order)
     * @param g      geometry
     * @param stream stochastic-rounding stream id
     * @return saved context
     */
    public ConvContext prepare(INDArray input, INDArray w, Conv2dGeometry g, long stream) {
        QuantizedTensor qx = gemm.prepareInput(input, stream);
        QuantizedTensor qw = gemm.prepareWeight(weights2d(w), 1, stream);
        return new ConvContext(qx, qw, g, input.size(0), w.size(1), w.size(0));
    }

    /** @return the im2col matrix {@code [N·outH·outW, inC·kH·kW]} of an NCHW array (a scratch buffer of the allocator) */
    private INDArray im2col(INDArray nchw, Conv2dGeometry g, long mb, long inC, String role) {
        INDArray col = gemm.allocator().scratch().allocate(role, 'c', mb, g.outH(), g.outW(), inC, g.kH(), g.kW());
        Convolution.im2col(
                nchw,
                g.kH(),
                g.kW(),
                g.sH(),
                g.sW(),
                g.pH(),
                g.pW(),
                g.dH(),
                g.dW(),
                g.sameMode(),
                col.permute(0, 3, 4, 5, 1, 2));
        return col.reshape('c', mb * g.outH() * g.outW(), inC * g.kH() * g.kW());
    }

    /** @return the {@code [inC·kH·kW, outC]} view of c-ordered weights (zero copy) */
    static INDArray weights2d(INDArray w) {
        return w.permute(3, 2, 1, 0).reshape('f', w.size(1) * w.size(2) * w.size(3), w.size(0));
    }

    /**
     * Forward pass.
     *
     * @param ctx context from {@link #prepare}
     * @param b   bias {@code [1, outC]} or null
     * @param out optional {@code [M, outC]} f-ordered FP32 buffer ({@code M = N·outH·outW}), or null
     * @return the NCHW output {@code [N, outC, outH, outW]} (a view of the f-ordered GEMM result)
     */
    public INDArray forward(ConvContext ctx, INDArray b, INDArray out) {
        Conv2dGeometry g = ctx.geometry();
        long m = ctx.miniBatch() * g.outH() * g.outW();
        INDArray z =
                out != null ? out : Nd4j.createUninitialized(DataType.FLOAT, new long[] {m, ctx.outChannels()}, 'f');
        QuantizedTensor x = ctx.input();
        INDArray cols = im2col(x.codes(), g, ctx.miniBatch(), ctx.inChannels(), "cols");
        QuantizedTensor qcols = new QuantizedTensor(cols, x.scales(), -1, x.precision());
        gemm.forward(new GemmContext(gemm.precision(), qcols, ctx.weight(), 0L), b, z);
        return toNchw(ctx, z);
    }

    /**
     * @param ctx context of the pass
     * @param z2d f-ordered {@code [N·outH·outW, outC]} GEMM result
     * @return the NCHW view {@code [N, outC, outH, outW]} of {@code z2d} (zero copy)
     */
    public INDArray toNchw(ConvContext ctx, INDArray z2d) {
        Conv2dGeometry g = ctx.geometry();
        INDArray z4 =
                Shape.newShapeNoCopy(z2d, new long[] {g.outW(), g.outH(), ctx.miniBatch(), ctx.outChannels()}, true);
        return z4.permute(2, 3, 1, 0);
    }

    /**
     * Backward pass.
     *
     * @param ctx   saved context
     * @param dz    gradient w.r.t. the conv output (before bias/activation), NCHW
     * @param dxOut NCHW input-gradient result (any strides), or null to skip
     * @param dwOut weight-gradient result {@code [outC, inC, kH, kW]} c-ordered (e.g. a gradient view)
     * @param dbOut bias-gradient result {@code [1, outC]} or null
     */
    public void backward(ConvContext ctx, INDArray dz, INDArray dxOut, INDArray dwOut, INDArray dbOut) {
        Conv2dGeometry g = ctx.geometry();
        long mb = ctx.miniBatch();
        long inC = ctx.inChannels();
        long outC = ctx.outChannels();
        long m = mb * g.outH() * g.outW();
        long k = inC * g.kH() * g.kW();
        INDArray dz2d = gemm.allocator()
                .scratch()
                .allocate("dz", 'c', mb, g.outH(), g.outW(), outC)
                .assign(dz.permute(0, 2, 3, 1))
                .reshape('c', m, outC);
        INDArray dw2d = Shape.newShapeNoCopy(dwOut, new long[] {outC, k}, false).transpose();
        INDArray dcols = dxOut == null ? null : gemm.allocator().scratch().allocate("dcols", 'c', m, k);
        LowPrecisionGemm.BackwardOperand xb = gemm.backwardOperand(ctx.input(), "xb");
        LowPrecisionGemm.BackwardOperand colsB =
                new LowPrecisionGemm.BackwardOperand(im2col(xb.values(), g, mb, inC, "colsb"), xb.scale());
        gemm.backward(colsB, gemm.backwardOperand(ctx.weight(), "wb"), dz2d, dcols, dw2d, dbOut);
        if (dxOut != null) {
            INDArray col6 = dcols.reshape('c', mb, g.outH(), g.outW(), inC, g.kH(), g.kW())
                    .permute(0, 3, 4, 5, 1, 2);
            Convolution.col2im(col6, dxOut, g.sH(), g.sW(), g.pH(), g.pW(), g.inH(), g.inW(), g.dH(), g.dW());
        }
    }
}
