package io.qsync.bench;

import io.qsync.runtime.Nd4jBuffers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;

/**
 * The replica checksum ({@link Nd4jBuffers#checksum(FloatBuffer...)}) over the VGG-style CNN's 2 329 546 parameters in
 * a direct buffer, as an engine's {@code checksum()} reads them, against the baseline it replaced: the same CRC32 with
 * the floats put into its buffer one at a time. Both give the same value ({@code Nd4jBuffersChecksumTest}).
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ChecksumBench extends JmhDefaults {
    private FloatBuffer params;

    /** Fills the parameters with Gaussian floats. */
    @Setup
    public void setUp() {
        int n = 2_329_546;
        params = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            params.put(i, (float) r.nextGaussian());
        }
    }

    /** The checksum as the engines take it now (bulk copies into the CRC's buffer). */
    @Benchmark
    public long bulk() {
        return Nd4jBuffers.checksum(params);
    }

    /** The baseline: one float at a time into the CRC's buffer, as before 2026-12-07. */
    @Benchmark
    public long perFloat() {
        ByteBuffer bytes = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        CRC32 crc = new CRC32();
        FloatBuffer fb = params.duplicate();
        while (fb.hasRemaining()) {
            bytes.clear();
            while (fb.hasRemaining() && bytes.remaining() >= 4) {
                bytes.putFloat(fb.get());
            }
            bytes.flip();
            crc.update(bytes);
        }
        return crc.getValue();
    }
}
