package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The pure-Java parts of the NCCL classes, on any machine: argument checks before any native call, the byte
 * all-gather's framing, and {@code NCCL_NVLS_ENABLE=0} put into this process' C environment through JNA.
 */
class NcclArgumentsTest {

    @Test
    void joinRejectsBadArgumentsBeforeTouchingNccl() {
        byte[] id = new byte[NcclGroup.ID_BYTES];
        Duration t = Duration.ofSeconds(1);
        String shortId = assertThrows(IllegalArgumentException.class, () -> NcclGroup.join(0, new byte[16], 0, 2, t))
                .getMessage();
        assertTrue(shortId.contains("128 bytes, got 16"), shortId);
        String rank = assertThrows(IllegalArgumentException.class, () -> NcclGroup.join(0, id, 2, 2, t))
                .getMessage();
        assertTrue(rank.contains("rank 2 of 2"), rank);
        assertThrows(IllegalArgumentException.class, () -> NcclGroup.join(0, id, 0, 0, t));
        assertThrows(IllegalArgumentException.class, () -> NcclGroup.join(-1, id, 0, 1, t));
        String zero = assertThrows(IllegalArgumentException.class, () -> NcclGroup.join(0, id, 0, 1, Duration.ZERO))
                .getMessage();
        assertTrue(zero.contains("timeout must be positive"), zero);
        assertThrows(NullPointerException.class, () -> NcclGroup.join(0, null, 0, 1, t));
        assertEquals(1, NcclCalls.checkRoot(1, 2));
        assertThrows(IllegalArgumentException.class, () -> NcclCalls.checkRoot(2, 2));
    }

    @Test
    void gatherFramesCarryLengthsThenPaddedBytes() {
        byte[][] mine = {"alpha".getBytes(StandardCharsets.UTF_8), new byte[0], "be".getBytes(StandardCharsets.UTF_8)};
        ByteBuffer lens = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
        for (int r = 0; r < 3; r++) {
            lens.putInt(4 * r, mine[r].length);
        }
        int[] lengths = GatherFrames.lengths(lens, 3);
        assertArrayEquals(new int[] {5, 0, 2}, lengths);
        int width = GatherFrames.width(lengths);
        assertEquals(5, width);
        ByteBuffer all = ByteBuffer.allocate(3 * width);
        for (int r = 0; r < 3; r++) {
            all.put(r * width, mine[r]);
        }
        byte[][] out = GatherFrames.split(all, lengths, width);
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(mine[r], out[r], "rank " + r);
        }
        lens.putInt(4, -3);
        String bad = assertThrows(IllegalStateException.class, () -> GatherFrames.lengths(lens, 3))
                .getMessage();
        assertTrue(bad.contains("rank 1 sent length -3"), bad);
    }

    @Test
    void nvlinkMulticastIsSwitchedOffInTheNativeEnvironment() {
        NcclEnvironment.prepare();
        assertEquals("0", NcclEnvironment.nativeValue(NcclEnvironment.NVLS));
        NcclEnvironment.prepare(); // once per process: a second call is a no-op
        assertEquals("0", NcclEnvironment.nativeValue(NcclEnvironment.NVLS));
    }
}
