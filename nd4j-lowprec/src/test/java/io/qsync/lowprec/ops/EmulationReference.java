package io.qsync.lowprec.ops;

import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;

/**
 * Scalar float64 reference of the low-precision GEMM emulation: the same element-wise
 * quantization/rounding (FP32 arithmetic, as the op defines it), then sums in double.
 */
final class EmulationReference {
    private EmulationReference() {}

    /** Quantized operand: codes and per-column (or single) scales. */
    record Operand(float[][] codes, float[] scales) {
        float scale(int col) {
            return scales.length == 1 ? scales[0] : scales[col];
        }
    }

    static float amax(float[][] a) {
        float m = 0;
        for (float[] r : a) {
            for (float v : r) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    static Operand int8(float[][] a, boolean perColumn, Int8Quantizer q) {
        int rows = a.length;
        int cols = a[0].length;
        float[] scales = new float[perColumn ? cols : 1];
        for (int j = 0; j < scales.length; j++) {
            float m = 0;
            for (int i = 0; i < rows; i++) {
                for (int jj = 0; jj < cols; jj++) {
                    if (!perColumn || jj == j) {
                        m = Math.max(m, Math.abs(a[i][jj]));
                    }
                }
            }
            scales[j] = m > 0 ? m / 127 : 1f;
        }
        float[][] c = new float[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = a[i][j] / scales[perColumn ? j : 0];
                c[i][j] = Math.max(-127, Math.min(127, (float) (int) v)); // TRUNCATE
            }
        }
        return new Operand(c, scales);
    }

    static Operand fp8(float[][] a, Precision f) {
        float m = amax(a);
        float s = m > 0 ? m / f.maxFinite() : 1f;
        float[][] c = new float[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                c[i][j] = FloatRounding.round(f, a[i][j] / s);
            }
        }
        return new Operand(c, new float[] {s});
    }

    static float[][] map(
            float[][] a, java.util.function.IntBinaryOperator unused, java.util.function.DoubleUnaryOperator f) {
        float[][] c = new float[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                c[i][j] = (float) f.applyAsDouble(a[i][j]);
            }
        }
        return c;
    }

    static float[][] round(float[][] a, Precision p) {
        return map(a, null, v -> FloatRounding.round(p, (float) v));
    }

    static float[][] transpose(float[][] a) {
        float[][] t = new float[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    /** C = A·B in double. */
    static double[][] matmul(float[][] a, float[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                double aik = a[i][k];
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += aik * b[k][j];
                }
            }
        }
        return c;
    }

    /** Forward Z = X·W + b for the given precision (INT8 uses TRUNCATE and optionally per-column W). */
    static double[][] forward(Precision p, float[][] x, float[][] w, float[] b, boolean perChannel) {
        double[][] z;
        switch (p) {
            case INT8: {
                Operand qx = int8(x, false, null);
                Operand qw = int8(w, perChannel, null);
                z = matmul(qx.codes(), qw.codes());
                for (double[] row : z) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] *= qx.scale(0) * qw.scale(j); // float product of scales, as the op
                    }
                }
                break;
            }
            case FP8_E4M3:
            case FP8_E5M2: {
                Operand qx = fp8(x, p);
                Operand qw = fp8(w, p);
                z = matmul(qx.codes(), qw.codes());
                float a = qx.scale(0) * qw.scale(0);
                for (double[] row : z) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] *= a;
                    }
                }
                break;
            }
            default:
                z = matmul(round(x, p), round(w, p));
        }
        for (double[] row : z) {
            for (int j = 0; j < row.length; j++) {
                row[j] += b[j];
            }
        }
        return z;
    }

    /** Backward: returns {dX, dW} in double. */
    static double[][][] backward(Precision p, float[][] x, float[][] w, float[][] dz, boolean perChannel) {
        float[][] xb;
        float[][] wb;
        float[][] gb;
        float sx = 1;
        float sw = 1;
        float sg = 1;
        switch (p) {
            case INT8: {
                Operand qx = int8(x, false, null);
                Operand qw = int8(w, perChannel, null);
                xb = new float[x.length][x[0].length];
                for (int i = 0; i < x.length; i++) {
                    for (int j = 0; j < x[0].length; j++) {
                        xb[i][j] = FloatRounding.roundFp16(qx.codes()[i][j] * qx.scale(0));
                    }
                }
                wb = new float[w.length][w[0].length];
                for (int i = 0; i < w.length; i++) {
                    for (int j = 0; j < w[0].length; j++) {
                        wb[i][j] = FloatRounding.roundFp16(qw.codes()[i][j] * qw.scale(j));
                    }
                }
                gb = round(dz, Precision.FP16);
                break;
            }
            case FP8_E4M3:
            case FP8_E5M2: {
                Operand qx = fp8(x, p);
                Operand qw = fp8(w, p);
                Operand qg = fp8(dz, Precision.FP8_E5M2);
                xb = qx.codes();
                wb = qw.codes();
                gb = qg.codes();
                sx = qx.scale(0);
                sw = qw.scale(0);
                sg = qg.scale(0);
                break;
            }
            default:
                xb = round(x, p);
                wb = round(w, p);
                gb = round(dz, p);
        }
        double[][] dx = matmul(gb, transpose(wb));
        double[][] dw = matmul(transpose(xb), gb);
        scale(dx, sg * sw);
        scale(dw, sx * sg);
        return new double[][][] {dx, dw};
    }

    static void scale(double[][] a, float s) {
        for (double[] row : a) {
            for (int j = 0; j < row.length; j++) {
                row[j] *= s;
            }
        }
    }
}
