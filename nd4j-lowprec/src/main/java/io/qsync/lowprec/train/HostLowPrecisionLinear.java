package io.qsync.lowprec.train;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import io.qsync.lowprec.quant.Int8Quantizer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link LowPrecisionLinear} of {@link HostOps}: the CPU emulation itself ({@link LowPrecisionGemm}, the op the
 * switchable DL4J layers run), on copies of the host tensors. The reference the CUDA version is checked against.
 */
final class HostLowPrecisionLinear implements LowPrecisionLinear {
    private final LowPrecisionGemm gemm;
    private final long stream;
    private GemmContext saved;
    private int m;
    private int n;
    private int k;

    HostLowPrecisionLinear(Precision precision, Int8Quantizer int8, long stream) {
        this.gemm = new LowPrecisionGemm(precision, int8);
        this.stream = stream;
    }

    @Override
    public Precision precision() {
        return gemm.precision();
    }

    private static INDArray array(Tensor t, int rows, int cols) {
        HostTensor h = HostTensor.of(t);
        float[] copy = new float[rows * cols];
        System.arraycopy(h.data(), h.offset(), copy, 0, copy.length);
        return Nd4j.create(copy, new long[] {rows, cols}, 'c');
    }

    private static void store(INDArray a, Tensor t) {
        HostTensor h = HostTensor.of(t);
        float[] v = a.dup('c').data().asFloat();
        System.arraycopy(v, 0, h.data(), h.offset(), v.length);
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, int m, int n, int k, Tensor out) {
        this.m = m;
        this.n = n;
        this.k = k;
        // W [N,K] row-major is the op's [K,N] weight transposed
        saved = gemm.prepare(array(x, m, k), array(w, n, k).transpose(), stream, true);
        INDArray z = Nd4j.create(DataType.FLOAT, new long[] {m, n}, 'c');
        gemm.forward(saved, bias == null ? null : array(bias, 1, n), z);
        store(z, out);
    }

    @Override
    public void backward(Tensor dy, Tensor dx, Tensor dw) {
        if (saved == null) {
            throw new IllegalStateException("backward before forward");
        }
        INDArray dxa = dx == null ? null : Nd4j.create(DataType.FLOAT, new long[] {m, k}, 'c');
        INDArray dwa = Nd4j.create(DataType.FLOAT, new long[] {n, k}, 'c');
        gemm.backward(saved, array(dy, m, n), dxa, dwa.transpose(), null);
        if (dxa != null) {
            store(dxa, dx);
        }
        store(dwa, dw);
    }

    @Override
    public void close() {
        saved = null;
    }
}
