package io.qsync.lowprec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** Bit-exactness of {@link FloatRounding} and {@link FloatCodec} against independent references. */
class FloatRoundingTest {

    private static void assertSameFloat(float expected, float actual, float input, String what) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), () -> what + " of NaN must be NaN");
            return;
        }
        assertEquals(
                Float.floatToRawIntBits(expected),
                Float.floatToRawIntBits(actual),
                () -> what + "(" + input + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(input))
                        + "): expected " + expected + " got " + actual);
    }

    private static float[] randomInputs(long seed, int n) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i % 2 == 0)
                    ? Float.intBitsToFloat(r.nextInt())
                    : (float) (r.nextGaussian() * Math.pow(2, r.nextInt(60) - 40));
        }
        return x;
    }

    private static final float[] SPECIALS = {
        Float.NaN,
        Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY,
        0f,
        -0f,
        Float.MIN_VALUE,
        -Float.MIN_VALUE,
        Float.MIN_NORMAL,
        Float.MAX_VALUE,
        -Float.MAX_VALUE,
        1e-40f,
        1e30f
    };

    private static void checkAgainstReference(Precision p, ReferenceFormat ref, float[]... inputSets) {
        int n = 0;
        for (float[] set : inputSets) {
            for (float x : set) {
                assertSameFloat(ref.round(x), FloatRounding.round(p, x), x, p.name());
                n++;
            }
        }
        assertTrue(n > 1000);
    }

    @Test
    void fp16MatchesEnumeratedReference() {
        ReferenceFormat ref = new ReferenceFormat(10, 5, false);
        checkAgainstReference(
                Precision.FP16, ref, ref.structuredInputs(), SPECIALS, randomInputs(1, 100_000), new float[] {
                    65504f, 65519.99f, 65520f, 65536f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-26f, 0x1p-14f
                });
    }

    @Test
    void bf16MatchesEnumeratedReference() {
        ReferenceFormat ref = new ReferenceFormat(7, 8, false);
        checkAgainstReference(Precision.BF16, ref, ref.structuredInputs(), SPECIALS, randomInputs(2, 100_000));
    }

    @Test
    void tf32MatchesEnumeratedReferenceOnRandomAndSpecialValues() {
        ReferenceFormat ref = new ReferenceFormat(10, 8, false);
        checkAgainstReference(Precision.TF32, ref, SPECIALS, randomInputs(3, 100_000));
    }

    @Test
    void fp8RoundingMatchesReferenceForAllEncodingsAndMidpoints() {
        ReferenceFormat e4m3 = new ReferenceFormat(3, 4, true);
        ReferenceFormat e5m2 = new ReferenceFormat(2, 5, false);
        assertEquals(448.0, e4m3.values[e4m3.values.length - 1]);
        assertEquals(57344.0, e5m2.values[e5m2.values.length - 1]);
        checkAgainstReference(Precision.FP8_E4M3, e4m3, e4m3.structuredInputs(), SPECIALS, randomInputs(4, 50_000));
        checkAgainstReference(Precision.FP8_E5M2, e5m2, e5m2.structuredInputs(), SPECIALS, randomInputs(5, 50_000));
        assertEquals(448f, FloatRounding.roundE4M3(1e9f));
        assertEquals(-448f, FloatRounding.roundE4M3(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, FloatRounding.roundE5M2(61440f));
        assertEquals(57344f, FloatRounding.roundE5M2(Math.nextDown(61440f)));
    }

    @Test
    void precisionDescriptorsMatchTheFormats() {
        Object[][] formats = {
            {Precision.FP16, 10, 5, false},
            {Precision.BF16, 7, 8, false},
            {Precision.TF32, 10, 8, false},
            {Precision.FP8_E4M3, 3, 4, true},
            {Precision.FP8_E5M2, 2, 5, false}
        };
        for (Object[] f : formats) {
            Precision p = (Precision) f[0];
            ReferenceFormat ref = new ReferenceFormat((Integer) f[1], (Integer) f[2], (Boolean) f[3]);
            assertEquals(p.mantissaBits(), (int) (Integer) f[1]);
            assertEquals(p.exponentBits(), (int) (Integer) f[2]);
            assertEquals((float) ref.values[ref.values.length - 1], p.maxFinite(), p.name());
            assertEquals(p.minNormalExponent(), ref.emin);
            assertTrue(p.isFloat());
        }
        assertEquals(Float.MAX_VALUE, Precision.FP32.maxFinite());
        assertTrue(Precision.INT8.isInteger());
        int[] bytes = {4, 4, 2, 2, 1, 1, 1};
        for (Precision p : Precision.values()) {
            assertEquals(bytes[p.ordinal()], p.storageBytes(), p.name());
        }
    }

    @Test
    void fp8CodecRoundTripsAll256Encodings() {
        for (Precision p : new Precision[] {Precision.FP8_E4M3, Precision.FP8_E5M2}) {
            int m = p.mantissaBits();
            int e = p.exponentBits();
            int bias = p.exponentBias();
            int nan = 0;
            for (int bits = 0; bits < 256; bits++) {
                byte b = (byte) bits;
                float v = p == Precision.FP8_E4M3 ? FloatCodec.decodeE4M3(b) : FloatCodec.decodeE5M2(b);
                int exp = (bits >>> m) & ((1 << e) - 1);
                int man = bits & ((1 << m) - 1);
                double sign = (bits & 0x80) != 0 ? -1 : 1;
                double expected;
                boolean isNan;
                if (p == Precision.FP8_E4M3) {
                    isNan = exp == 15 && man == 7;
                    expected = exp == 0 ? man * Math.pow(2, 1 - bias - m) : (1 + man / 8.0) * Math.pow(2, exp - bias);
                } else {
                    isNan = exp == 31 && man != 0;
                    expected = exp == 31
                            ? Double.POSITIVE_INFINITY
                            : exp == 0 ? man * Math.pow(2, 1 - bias - m) : (1 + man / 4.0) * Math.pow(2, exp - bias);
                }
                if (isNan) {
                    nan++;
                    assertTrue(Float.isNaN(v), "encoding " + bits + " must decode to NaN");
                    continue;
                }
                assertEquals((float) (sign * expected), v, 0f, p + " decode of " + bits);
                byte back = p == Precision.FP8_E4M3 ? FloatCodec.encodeE4M3(v) : FloatCodec.encodeE5M2(v);
                assertEquals(b, back, p + " encode(decode(" + bits + "))");
                assertSameFloat(v, FloatRounding.round(p, v), v, p + " idempotence");
            }
            assertEquals(p == Precision.FP8_E4M3 ? 2 : 6, nan);
        }
    }

    @Test
    void fp16AndBf16CodecsRoundTripAllEncodings() {
        for (int h = 0; h < 65536; h++) {
            float v = FloatCodec.decodeFp16((short) h);
            boolean nan = ((h >>> 10) & 0x1F) == 0x1F && (h & 0x3FF) != 0;
            assertEquals(nan, Float.isNaN(v));
            if (!nan) {
                assertEquals((short) h, FloatCodec.encodeFp16(v), "fp16 round trip " + h);
            }
            float bv = FloatCodec.decodeBf16((short) h);
            if (!Float.isNaN(bv)) {
                assertEquals((short) h, FloatCodec.encodeBf16(bv), "bf16 round trip " + h);
                assertSameFloat(bv, FloatRounding.roundBf16(bv), bv, "bf16 idempotence");
            }
        }
    }

    /** Table made by JDK 25's Float.floatToFloat16 (see src/test/tools/Fp16ReferenceTableGen.java). */
    @Test
    void fp16EncodingMatchesJdk25FloatToFloat16() throws Exception {
        int n = 0;
        try (InputStream raw = getClass().getResourceAsStream("/fp16-reference.bin.gz")) {
            assertNotNull(raw, "missing test resource fp16-reference.bin.gz");
            DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16));
            while (true) {
                int bits;
                try {
                    bits = in.readInt();
                } catch (EOFException eof) {
                    break;
                }
                short expected = in.readShort();
                float x = Float.intBitsToFloat(bits);
                short actual = FloatCodec.encodeFp16(x);
                if (Float.isNaN(x)) {
                    assertTrue(Float.isNaN(FloatCodec.decodeFp16(actual)));
                } else if (expected != actual) {
                    assertEquals(expected, actual, "fp16 of " + x + " (0x" + Integer.toHexString(bits) + ")");
                }
                n++;
            }
        }
        assertTrue(n > 500_000, "only " + n + " records");
    }

    @Test
    void arrayRoundingEqualsScalarRounding() {
        float[] x = randomInputs(7, 20_000);
        for (Precision p :
                new Precision[] {Precision.TF32, Precision.BF16, Precision.FP16, Precision.FP8_E4M3, Precision.FP8_E5M2
                }) {
            float[] y = x.clone();
            FloatRounding.roundInPlace(p, y, 0, y.length);
            org.nd4j.linalg.api.ndarray.INDArray arr =
                    org.nd4j.linalg.factory.Nd4j.createFromArray(x.clone()).reshape(100, 200);
            float[] viaNd4j = ArrayRounding.rounded(p, arr).data().asFloat();
            for (int i = 0; i < x.length; i++) {
                assertSameFloat(FloatRounding.round(p, x[i]), y[i], x[i], p + " array");
                assertSameFloat(y[i], viaNd4j[i], x[i], p + " INDArray");
            }
        }
    }
}
