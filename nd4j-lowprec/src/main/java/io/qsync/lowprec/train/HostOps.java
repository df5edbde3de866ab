package io.qsync.lowprec.train;

import java.nio.FloatBuffer;

/**
 * The plain-Java reference of {@link TensorOps}: loops over float arrays (large GEMMs split by rows over the common
 * fork-join pool; each output is still summed in one fixed order), float arithmetic as a
 * BLAS would do it (sums in float, transcendental functions in double rounded to float). Slow but simple enough to
 * read against DL4J; the CUDA kernels implement the same loops.
 */
public final class HostOps implements TensorOps {
    private final HostImageKernels image = new HostImageKernels();
    private final HostNormKernels norm = new HostNormKernels();
    private long allocatedFloats;

    private static HostTensor h(Tensor t) {
        return HostTensor.of(t);
    }

    private static void sameLength(Tensor a, Tensor b) {
        if (a.length() != b.length()) {
            throw new IllegalArgumentException("length " + a.length() + " != " + b.length());
        }
    }

    @Override
    public String device() {
        return "host (Java reference)";
    }

    @Override
    public Tensor allocate(String what, long length) {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(what + ": " + length + " floats exceed a Java array");
        }
        allocatedFloats += length;
        return new HostTensor(new float[(int) length], 0, (int) length);
    }

    /** Floats allocated so far by {@link #allocate}. */
    public long allocatedFloats() {
        return allocatedFloats;
    }

    @Override
    public Tensor slice(Tensor t, long offset, long length) {
        HostTensor x = h(t);
        if (offset < 0 || offset + length > x.len()) {
            throw new IllegalArgumentException("slice [" + offset + ", " + (offset + length) + ") of " + x.len());
        }
        return new HostTensor(x.data(), x.offset() + (int) offset, (int) length);
    }

    @Override
    public FloatBuffer hostBuffer(String what, long length) {
        return java.nio.ByteBuffer.allocateDirect(Math.toIntExact(length * 4))
                .order(java.nio.ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    @Override
    public void upload(FloatBuffer src, Tensor dst) {
        HostTensor d = h(dst);
        src.duplicate().get(d.data(), d.offset(), d.len());
    }

    @Override
    public void download(Tensor src, FloatBuffer dst) {
        HostTensor s = h(src);
        dst.duplicate().put(s.data(), s.offset(), s.len());
    }

    @Override
    public void fill(Tensor t, float value) {
        HostTensor x = h(t);
        java.util.Arrays.fill(x.data(), x.offset(), x.offset() + x.len(), value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        sameLength(src, dst);
        HostTensor s = h(src);
        HostTensor d = h(dst);
        System.arraycopy(s.data(), s.offset(), d.data(), d.offset(), s.len());
    }

    @Override
    public void gemm(
            boolean transA,
            boolean transB,
            int m,
            int n,
            int k,
            float alpha,
            Tensor a,
            Tensor b,
            float beta,
            Tensor c) {
        HostGemm.gemm(transA, transB, m, n, k, alpha, h(a), h(b), beta, h(c));
    }

    @Override
    public void addBias(Tensor x, Tensor bias, int outer, int channels, int inner) {
        HostTensor hx = h(x);
        HostTensor hb = h(bias);
        float[] xv = hx.data();
        for (int o = 0; o < outer; o++) {
            for (int ch = 0; ch < channels; ch++) {
                float bv = hb.data()[hb.offset() + ch];
                int base = hx.offset() + (o * channels + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    xv[base + i] += bv;
                }
            }
        }
    }

    @Override
    public void sumBias(Tensor dy, Tensor db, int outer, int channels, int inner) {
        HostTensor hy = h(dy);
        HostTensor hb = h(db);
        for (int ch = 0; ch < channels; ch++) {
            float s = 0;
            for (int o = 0; o < outer; o++) {
                int base = hy.offset() + (o * channels + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    s += hy.data()[base + i];
                }
            }
            hb.data()[hb.offset() + ch] = s;
        }
    }

    @Override
    public void activate(Act act, double alpha, Tensor z, Tensor y) {
        sameLength(z, y);
        HostTensor hz = h(z);
        HostTensor hy = h(y);
        for (int i = 0; i < hz.len(); i++) {
            hy.data()[hy.offset() + i] = (float) act.apply(hz.data()[hz.offset() + i], alpha);
        }
    }

    @Override
    public void activateBackward(Act act, double alpha, Tensor z, Tensor dy, Tensor dz) {
        sameLength(z, dy);
        sameLength(z, dz);
        HostTensor hz = h(z);
        HostTensor hy = h(dy);
        HostTensor hd = h(dz);
        for (int i = 0; i < hz.len(); i++) {
            float d = (float) act.derivative(hz.data()[hz.offset() + i], alpha);
            hd.data()[hd.offset() + i] = hy.data()[hy.offset() + i] * d;
        }
    }

    @Override
    public void im2col(Tensor x, ConvGeom g, int batch, Tensor cols) {
        image.im2col(h(x), g, batch, h(cols));
    }

    @Override
    public void col2im(Tensor cols, ConvGeom g, int batch, Tensor dx) {
        image.col2im(h(cols), g, batch, h(dx));
    }

    @Override
    public void swapAxes(Tensor src, Tensor dst, int a, int b, int inner) {
        sameLength(src, dst);
        HostTensor s = h(src);
        HostTensor d = h(dst);
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(
                        s.data(), s.offset() + (i * b + j) * inner, d.data(), d.offset() + (j * a + i) * inner, inner);
            }
        }
    }

    @Override
    public void pool(boolean max, Tensor x, ConvGeom g, int planes, Tensor y) {
        image.pool(max, h(x), g, planes, h(y));
    }

    @Override
    public void poolBackward(boolean max, Tensor x, Tensor dy, ConvGeom g, int planes, Tensor dx) {
        image.poolBackward(max, h(x), h(dy), g, planes, h(dx));
    }

    @Override
    public void globalPool(boolean max, Tensor x, int planes, int size, Tensor y) {
        image.globalPool(max, h(x), planes, size, h(y));
    }

    @Override
    public void globalPoolBackward(boolean max, Tensor x, Tensor dy, int planes, int size, Tensor dx) {
        image.globalPoolBackward(max, h(x), h(dy), planes, size, h(dx));
    }

    @Override
    public void bnStats(Tensor x, int n, int c, int inner, Tensor mean, Tensor var) {
        norm.bnStats(h(x), n, c, inner, h(mean), h(var));
    }

    @Override
    public void bnForward(
            Tensor x,
            Tensor mean,
            Tensor var,
            double eps,
            Tensor gamma,
            Tensor beta,
            int n,
            int c,
            int inner,
            Tensor y) {
        norm.bnForward(h(x), h(mean), h(var), eps, h(gamma), h(beta), n, c, inner, h(y));
    }

    @Override
    public void bnBackward(
            Tensor x,
            Tensor dy,
            Tensor mean,
            Tensor var,
            double eps,
            Tensor gamma,
            int n,
            int c,
            int inner,
            Tensor dx,
            Tensor dGamma,
            Tensor dBeta) {
        norm.bnBackward(h(x), h(dy), h(mean), h(var), eps, h(gamma), n, c, inner, h(dx), h(dGamma), h(dBeta));
    }

    @Override
    public void bnRunningDelta(
            Tensor globalMean,
            Tensor global,
            Tensor batchMean,
            Tensor batchVar,
            double decay,
            boolean log10Std,
            int c,
            Tensor dMean,
            Tensor dGlobal) {
        norm.bnRunningDelta(
                h(globalMean), h(global), h(batchMean), h(batchVar), decay, log10Std, c, h(dMean), h(dGlobal));
    }

    @Override
    public void bnVarFromLog10Std(Tensor log10Std, Tensor var) {
        norm.varFromLog10Std(h(log10Std), h(var));
    }

    @Override
    public void softmaxCrossEntropy(Tensor z, Tensor labels, int rows, int cols, Tensor probs, Tensor dz, Tensor loss) {
        norm.softmaxCrossEntropy(h(z), h(labels), rows, cols, h(probs), h(dz), h(loss));
    }

    @Override
    public void softmax(Tensor z, int rows, int cols, Tensor probs) {
        norm.softmax(h(z), rows, cols, h(probs));
    }

    @Override
    public void mse(Tensor out, Tensor labels, int rows, int cols, Tensor dz, Tensor loss) {
        norm.mse(h(out), h(labels), rows, cols, h(dz), h(loss));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        sameLength(a, b);
        sameLength(a, out);
        HostTensor x = h(a);
        HostTensor y = h(b);
        HostTensor o = h(out);
        for (int i = 0; i < x.len(); i++) {
            o.data()[o.offset() + i] = x.data()[x.offset() + i] + y.data()[y.offset() + i];
        }
    }

    @Override
    public void copyBlocks(
            Tensor src,
            int srcStride,
            int srcOffset,
            Tensor dst,
            int dstStride,
            int dstOffset,
            int outer,
            int block,
            boolean accumulate) {
        HostTensor s = h(src);
        HostTensor d = h(dst);
        for (int o = 0; o < outer; o++) {
            int si = s.offset() + o * srcStride + srcOffset;
            int di = d.offset() + o * dstStride + dstOffset;
            if (accumulate) {
                for (int i = 0; i < block; i++) {
                    d.data()[di + i] += s.data()[si + i];
                }
            } else {
                System.arraycopy(s.data(), si, d.data(), di, block);
            }
        }
    }

    @Override
    public void scale(Tensor x, float s) {
        HostTensor t = h(x);
        for (int i = 0; i < t.len(); i++) {
            t.data()[t.offset() + i] *= s;
        }
    }

    @Override
    public void divide(Tensor x, float d) {
        HostTensor t = h(x);
        for (int i = 0; i < t.len(); i++) {
            t.data()[t.offset() + i] /= d;
        }
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        sameLength(x, y);
        HostTensor a = h(x);
        HostTensor b = h(y);
        for (int i = 0; i < a.len(); i++) {
            b.data()[b.offset() + i] += alpha * a.data()[a.offset() + i];
        }
    }

    @Override
    public void axpySign(float alpha, Tensor x, Tensor y) {
        sameLength(x, y);
        HostTensor a = h(x);
        HostTensor b = h(y);
        for (int i = 0; i < a.len(); i++) {
            b.data()[b.offset() + i] += alpha * Math.signum(a.data()[a.offset() + i]);
        }
    }

    @Override
    public void sumSquares(Tensor x, Tensor acc) {
        norm.sumSquares(h(x), h(acc));
    }

    @Override
    public void normScale(Tensor x, Tensor sumSq, double threshold, boolean clip) {
        norm.normScale(h(x), h(sumSq), threshold, clip);
    }

    @Override
    public void clip(Tensor x, float t) {
        HostTensor a = h(x);
        for (int i = 0; i < a.len(); i++) {
            int j = a.offset() + i;
            a.data()[j] = Math.max(-t, Math.min(t, a.data()[j]));
        }
    }

    @Override
    public void adam(Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, int iteration) {
        norm.adam(h(g), h(m), h(v), lr, beta1, beta2, eps, iteration);
    }

    @Override
    public void nesterovs(Tensor g, Tensor v, double lr, double momentum) {
        norm.nesterovs(h(g), h(v), lr, momentum);
    }

    @Override
    public LowPrecisionLinear lowPrecisionLinear(
            io.qsync.lowprec.Precision precision, io.qsync.lowprec.quant.Int8Quantizer int8, long stream) {
        return new HostLowPrecisionLinear(precision, int8, stream);
    }

    @Override
    public void synchronize() {}

    @Override
    public void close() {}
}
