package io.qsync.lowprec.cuda.check;

import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;

/**
 * The CPU emulation on plain {@code float[]} (no ND4J, so it runs on the GPU machine's JavaCPP-1.5.13 class path):
 * calls the scalar reference functions ({@link FloatRounding}, {@link Int8Quantizer#scaleFor},
 * {@link Int8Quantizer#code}) exactly as {@link io.qsync.lowprec.quant.Int8Quantizer#quantize},
 * {@link io.qsync.lowprec.quant.Fp8Quantizer} and {@link io.qsync.lowprec.ops.LowPrecisionGemm} do.
 * Row-major arrays throughout.
 */
public final class CpuReference {
    private CpuReference() {}

    /** Quantized values: codes as floats and their scales. */
    public record Quantized(float[] codes, float[] scales) {}

    /** @return {@code x} rounded element-wise to float format {@code p} */
    public static float[] round(Precision p, float[] x) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = FloatRounding.round(p, x[i]);
        }
        return r;
    }

    /** @return max |x| as Int8Quantizer computes it */
    public static float amax(float[] x) {
        float a = 0f;
        for (float v : x) {
            a = Math.max(a, Math.abs(v));
        }
        return a;
    }

    /**
     * INT8 quantization of a row-major {@code [rows, cols]} array, per tensor or per row, as
     * {@code Int8Quantizer.quantize(x, perRow ? 0 : -1, stream)}.
     */
    public static Quantized int8(float[] x, int rows, int cols, boolean perRow, Int8Quantizer q, long stream) {
        int ch = perRow ? rows : 1;
        long inner = perRow ? cols : x.length;
        float[] am = new float[ch];
        for (int i = 0; i < x.length; i++) {
            int c = (int) ((i / inner) % ch);
            am[c] = Math.max(am[c], Math.abs(x[i]));
        }
        float[] s = new float[ch];
        for (int c = 0; c < ch; c++) {
            s[c] = Int8Quantizer.scaleFor(am[c]);
        }
        float[] codes = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = ch == 1 ? 0 : (int) ((i / inner) % ch);
            codes[i] = q.code(x[i] / s[c], stream, i);
        }
        return new Quantized(codes, s);
    }

    /** Per-tensor amax-scaled FP8 as {@code Fp8Quantizer.quantize}. */
    public static Quantized fp8(float[] x, Precision format) {
        float a = amax(x);
        float scale = (a > 0f && a < Float.POSITIVE_INFINITY) ? a / format.maxFinite() : 1f;
        float[] c = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            c[i] = FloatRounding.round(format, x[i] / scale);
        }
        return new Quantized(c, new float[] {scale});
    }

    /**
     * {@code D[M,N] = op(A)·op(B)} accumulated in double (the reference for float GEMMs). Row-major; A is
     * {@code [M,K]} or {@code [K,M]} (transA), B is {@code [K,N]} or {@code [N,K]} (transB).
     */
    public static double[] gemm(float[] a, float[] b, int m, int n, int k, boolean transA, boolean transB) {
        double[] d = new double[m * n];
        double[] arow = new double[k];
        double[] bcol = new double[k];
        double[][] bt = new double[n][];
        for (int j = 0; j < n; j++) {
            bt[j] = new double[k];
            for (int p = 0; p < k; p++) {
                bt[j][p] = transB ? b[j * k + p] : b[p * n + j];
            }
        }
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                arow[p] = transA ? a[p * m + i] : a[i * k + p];
            }
            for (int j = 0; j < n; j++) {
                double[] bj = bt[j];
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += arow[p] * bj[p];
                }
                d[i * n + j] = s;
            }
        }
        return d;
    }

    /**
     * The INT8 layer's forward: exact integer products (double is exact below 2^53), converted to float once,
     * times {@code sx·sw[col]} in float, plus bias in float (as LowPrecisionGemm.forward).
     */
    public static float[] int8Forward(Quantized x, Quantized w, int m, int n, int k, float[] bias) {
        double[] acc = gemm(x.codes(), w.codes(), m, n, k, false, true);
        float[] out = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = x.scales()[0] * w.scales()[w.scales().length == 1 ? 0 : j];
                float v = (float) acc[i * n + j] * s;
                out[i * n + j] = bias == null ? v : v + bias[j];
            }
        }
        return out;
    }

    /** @return ‖gpu − ref‖₂ / ‖ref‖₂ (NaN if any GPU value is NaN) */
    public static double relErr(float[] gpu, double[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double e = gpu[i] - ref[i];
            num += e * e;
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
    }

    /** @return number of NaNs */
    public static int nans(float[] x) {
        int c = 0;
        for (float v : x) {
            if (v != v) {
                c++;
            }
        }
        return c;
    }

    /** @return {@code x} widened to double */
    public static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    /** @return {@code x} scaled by s in float, as doubles */
    public static float[] scaled(float[] x, float s) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[i] * s;
        }
        return r;
    }

    /** Direct convolution (NCHW, weight [outC, inC, kH, kW]) into [B·Ho·Wo, outC] (the im2col GEMM's layout), in double. */
    public static double[] conv(float[] x, float[] w, io.qsync.lowprec.cuda.ConvShape g) {
        int ho = g.outH(), wo = g.outW();
        double[] out = new double[(int) g.m() * g.outC()];
        for (int b = 0; b < g.batch(); b++) {
            for (int oh = 0; oh < ho; oh++) {
                for (int ow = 0; ow < wo; ow++) {
                    int row = (b * ho + oh) * wo + ow;
                    for (int oc = 0; oc < g.outC(); oc++) {
                        double s = 0;
                        for (int c = 0; c < g.inC(); c++) {
                            for (int i = 0; i < g.kH(); i++) {
                                int y = oh * g.strideH() - g.padH() + i;
                                if (y < 0 || y >= g.inH()) {
                                    continue;
                                }
                                for (int j = 0; j < g.kW(); j++) {
                                    int xx = ow * g.strideW() - g.padW() + j;
                                    if (xx < 0 || xx >= g.inW()) {
                                        continue;
                                    }
                                    s += (double) x[((b * g.inC() + c) * g.inH() + y) * g.inW() + xx]
                                            * w[((oc * g.inC() + c) * g.kH() + i) * g.kW() + j];
                                }
                            }
                        }
                        out[row * g.outC() + oc] = s;
                    }
                }
            }
        }
        return out;
    }
}
