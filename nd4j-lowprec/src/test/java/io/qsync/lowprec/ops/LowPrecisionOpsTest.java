package io.qsync.lowprec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** GEMM and conv ops against a float64 reference of the same emulation (≤ 1e-5 relative, norm-wise max). */
class LowPrecisionOpsTest {
    private static final double TOL = 1e-5;

    private static float[][] random(Random r, int rows, int cols, double scale) {
        float[][] a = new float[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[i][j] = (float) (r.nextGaussian() * scale);
            }
        }
        return a;
    }

    private static void assertClose(double[][] ref, INDArray actual, String what) {
        RelativeError.assertClose(ref, actual, TOL, what);
    }

    private static void checkGemm(Precision p, int m, int k, int n, boolean perChannel) {
        Random r = new Random(31L * k + p.ordinal());
        float[][] x = random(r, m, k, 1.0);
        float[][] w = random(r, k, n, 0.1);
        float[] b = random(r, 1, n, 0.5)[0];
        float[][] dz = random(r, m, n, 0.01);
        Int8Quantizer q = new Int8Quantizer(
                perChannel ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR, IntRounding.TRUNCATE, 0);
        LowPrecisionGemm op = new LowPrecisionGemm(p, q);
        GemmContext ctx = op.prepare(Nd4j.createFromArray(x), Nd4j.createFromArray(w), 0);
        INDArray out = Nd4j.create(DataType.FLOAT, new long[] {m, n}, 'f');
        op.forward(ctx, Nd4j.createFromArray(b).reshape(1, n), out);
        assertClose(EmulationReference.forward(p, x, w, b, perChannel), out, p + " forward");
        INDArray dx = Nd4j.create(DataType.FLOAT, m, k);
        INDArray dw = Nd4j.create(DataType.FLOAT, new long[] {k, n}, 'f');
        INDArray db = Nd4j.create(DataType.FLOAT, 1, n);
        op.backward(ctx, Nd4j.createFromArray(dz), dx, dw, db);
        double[][][] ref = EmulationReference.backward(p, x, w, dz, perChannel);
        assertClose(ref[0], dx, p + " dX");
        assertClose(ref[1], dw, p + " dW");
        double[][] dbRef = new double[1][n];
        for (float[] row : dz) {
            for (int j = 0; j < n; j++) {
                dbRef[0][j] += row[j];
            }
        }
        assertClose(dbRef, db, p + " db");
        long expectedSaved = p.bytesFor((long) m * k) + p.bytesFor((long) k * n);
        assertEquals(expectedSaved, ctx.savedBytes());
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void gemmMatchesFloat64Reference(Precision p) {
        checkGemm(p, 16, 40, 12, false);
    }

    @Test
    void int8PerChannelAndLargeKMatchReference() {
        checkGemm(Precision.INT8, 8, 30, 10, true);
        checkGemm(Precision.INT8, 4, 1500, 6, false); // K > 1040: FP64 integer accumulation
    }

    @ParameterizedTest
    @EnumSource(
            value = IntRounding.class,
            names = {"TRUNCATE", "NEAREST"})
    void int8FusedBackwardCopiesAreBitwiseEqualToSeparatePasses(IntRounding rounding) {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 9, 20000).dup('f'); // f order, > one chunk
        INDArray w = Nd4j.randn(DataType.FLOAT, 20000, 7).muli(0.1);
        x.putScalar(0, 0, Float.NaN); // NaN and ±∞ follow the same code path
        w.putScalar(1, 1, Float.POSITIVE_INFINITY);
        INDArray dz = Nd4j.randn(DataType.FLOAT, 9, 7);
        Int8Quantizer q = new Int8Quantizer(Granularity.PER_TENSOR, rounding, 0);
        LowPrecisionGemm sep = new LowPrecisionGemm(Precision.INT8, q);
        LowPrecisionGemm fused = new LowPrecisionGemm(Precision.INT8, q, io.qsync.lowprec.ArrayAllocator.pooled());
        GemmContext a = sep.prepare(x, w, 5);
        GemmContext b = fused.prepare(x, w, 5, true);
        assertTrue(b.xBackward() != null && b.wBackward() != null);
        assertArrays(a.x().codes(), b.x().codes());
        assertArrays(a.w().codes(), b.w().codes());
        assertEquals(a.x().scale(), b.x().scale());
        assertArrays(sep.backwardOperand(a.x(), "xb").values(), b.xBackward());
        assertArrays(sep.backwardOperand(a.w(), "wb").values(), b.wBackward());
        // forward: the one-pass scale+bias on a c-ordered output equals muli + addiRowVector (f-ordered output)
        INDArray bias = Nd4j.randn(DataType.FLOAT, 1, 7);
        INDArray outF = sep.forward(a, bias, Nd4j.create(DataType.FLOAT, new long[] {9, 7}, 'f'));
        INDArray outC = fused.forward(b, bias, Nd4j.create(DataType.FLOAT, new long[] {9, 7}, 'c'));
        assertArrays(outF, outC);
        assertArrays(
                sep.forward(a, null, Nd4j.create(DataType.FLOAT, new long[] {9, 7}, 'f')),
                fused.forward(b, null, Nd4j.create(DataType.FLOAT, new long[] {9, 7}, 'c')));
        INDArray[] ra = {
            Nd4j.create(DataType.FLOAT, 9, 20000),
            Nd4j.create(DataType.FLOAT, 20000, 7),
            Nd4j.create(DataType.FLOAT, 1, 7)
        };
        INDArray[] rb = {
            Nd4j.create(DataType.FLOAT, 9, 20000),
            Nd4j.create(DataType.FLOAT, 20000, 7),
            Nd4j.create(DataType.FLOAT, 1, 7)
        };
        sep.backward(a, dz, ra[0], ra[1], ra[2]);
        fused.backward(b, dz, rb[0], rb[1], rb[2]);
        for (int i = 0; i < 3; i++) {
            assertArrays(ra[i], rb[i]);
        }
    }

    private static void assertArrays(INDArray expected, INDArray actual) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(
                expected.dup('c').data().asFloat(), actual.dup('c').data().asFloat());
    }

    @Test
    void savedBytesAreAQuarterOrHalfOfFp32() {
        long fp32 = Precision.FP32.bytesFor(1000);
        assertEquals(fp32 / 4, Precision.INT8.bytesFor(1000));
        assertEquals(fp32 / 2, Precision.FP16.bytesFor(1000));
        assertEquals(fp32 / 2, Precision.BF16.bytesFor(1000));
        assertEquals(fp32 / 4, Precision.FP8_E4M3.bytesFor(1000));
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void convMatchesDirectLoopReference(Precision p) {
        int mb = 2, c = 3, h = 6, wd = 5, o = 4, kh = 3, kw = 2, s = 1, pad = 1;
        int oh = (h + 2 * pad - kh) / s + 1;
        int ow = (wd + 2 * pad - kw) / s + 1;
        Random r = new Random(5 + p.ordinal());
        INDArray in = Nd4j.randn(DataType.FLOAT, mb, c, h, wd);
        INDArray w = Nd4j.randn(DataType.FLOAT, o, c, kh, kw).muli(0.2);
        float[] b = random(r, 1, o, 0.3)[0];
        INDArray dz = Nd4j.randn(DataType.FLOAT, mb, o, oh, ow).muli(0.05);
        // reference im2col with explicit loops
        int m = mb * oh * ow;
        int k = c * kh * kw;
        float[][] cols = new float[m][k];
        float[][] w2d = new float[k][o];
        float[][] dz2d = new float[m][o];
        for (int n = 0; n < mb; n++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int row = (n * oh + y) * ow + x;
                    for (int oc = 0; oc < o; oc++) {
                        dz2d[row][oc] = dz.getFloat(n, oc, y, x);
                    }
                    for (int ch = 0; ch < c; ch++) {
                        for (int i = 0; i < kh; i++) {
                            for (int j = 0; j < kw; j++) {
                                int yy = y * s - pad + i;
                                int xx = x * s - pad + j;
                                boolean inside = yy >= 0 && yy < h && xx >= 0 && xx < wd;
                                cols[row][(ch * kh + i) * kw + j] = inside ? in.getFloat(n, ch, yy, xx) : 0f;
                            }
                        }
                    }
                }
            }
        }
        for (int oc = 0; oc < o; oc++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        w2d[(ch * kh + i) * kw + j][oc] = w.getFloat(oc, ch, i, j);
                    }
                }
            }
        }
        LowPrecisionConv2d op = new LowPrecisionConv2d(p, Int8Quantizer.QSYNC_DEFAULT);
        Conv2dGeometry g = new Conv2dGeometry(kh, kw, s, s, pad, pad, 1, 1, false, h, wd, oh, ow);
        ConvContext ctx = op.prepare(in, w, g, 0);
        INDArray z = op.forward(ctx, Nd4j.createFromArray(b).reshape(1, o), null);
        double[][] zRef = EmulationReference.forward(p, cols, w2d, b, false);
        INDArray z2d = z.permute(0, 2, 3, 1).dup('c').reshape(m, o);
        assertClose(zRef, z2d, p + " conv forward");
        INDArray dx = Nd4j.create(DataType.FLOAT, mb, c, h, wd);
        INDArray dw = Nd4j.create(DataType.FLOAT, o, c, kh, kw);
        op.backward(ctx, dz, dx, dw, Nd4j.create(DataType.FLOAT, 1, o));
        double[][][] ref = EmulationReference.backward(p, cols, w2d, dz2d, false);
        INDArray dw2d = dw.permute(1, 2, 3, 0).dup('c').reshape(k, o);
        assertClose(ref[1], dw2d, p + " conv dW");
        double[][] dxRef = new double[mb * c][h * wd];
        for (int n = 0; n < mb; n++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int row = (n * oh + y) * ow + x;
                    for (int ch = 0; ch < c; ch++) {
                        for (int i = 0; i < kh; i++) {
                            for (int j = 0; j < kw; j++) {
                                int yy = y * s - pad + i;
                                int xx = x * s - pad + j;
                                if (yy >= 0 && yy < h && xx >= 0 && xx < wd) {
                                    dxRef[n * c + ch][yy * wd + xx] += ref[0][row][(ch * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                }
            }
        }
        assertClose(dxRef, dx.reshape(mb * c, h * wd), p + " conv dX");
        assertEquals(p.bytesFor((long) mb * c * h * wd) + p.bytesFor((long) o * c * kh * kw), ctx.savedBytes());
    }
}
