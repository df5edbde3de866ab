import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Generates src/test/resources/fp16-reference.bin.gz with JDK 20+'s Float.floatToFloat16 (an
 * implementation independent of io.qsync.lowprec). Run with JDK 25:
 *   /usr/lib/jvm/temurin-25-jdk-amd64/bin/java Fp16ReferenceTableGen.java ../resources/fp16-reference.bin.gz
 * Records: int float-bits, short fp16-bits. Inputs: every FP16 value, every midpoint between
 * neighbouring FP16 values and the floats just below/above it (ties and near-ties, incl. the overflow
 * midpoint 65520 and the subnormal range), specials, and 300 000 random float bit patterns.
 */
public class Fp16ReferenceTableGen {
    public static void main(String[] args) throws Exception {
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(new FileOutputStream(args[0])))) {
            int n = 0;
            for (int h = 0; h < 0x7C00; h++) {
                for (int sign = 0; sign <= 1; sign++) {
                    float v = Float.float16ToFloat((short) (h | (sign << 15)));
                    float next = Float.float16ToFloat((short) ((h + 1) | (sign << 15)));
                    float mid = (float) (((double) v + (double) next) / 2); // exact: fits in 12 bits
                    for (float x : new float[] {v, mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                        out.writeInt(Float.floatToRawIntBits(x));
                        out.writeShort(Float.floatToFloat16(x));
                        n++;
                    }
                }
            }
            float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
                -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, 65520f, -65520f, 65519.996f, 1e6f, 0x1p-25f,
                Math.nextUp(0x1p-25f), Math.nextDown(0x1p-25f), 3 * 0x1p-26f};
            for (float x : specials) {
                out.writeInt(Float.floatToRawIntBits(x));
                out.writeShort(Float.floatToFloat16(x));
                n++;
            }
            Random r = new Random(20240601L);
            for (int i = 0; i < 300_000; i++) {
                float x = (i % 2 == 0) ? Float.intBitsToFloat(r.nextInt())
                        : (float) (r.nextGaussian() * Math.pow(2, r.nextInt(40) - 28));
                out.writeInt(Float.floatToRawIntBits(x));
                out.writeShort(Float.floatToFloat16(x));
                n++;
            }
            System.out.println("records: " + n);
        }
    }
}
