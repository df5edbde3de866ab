package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import org.junit.jupiter.api.Test;

/**
 * What a card's facts decide without a GPU: its device type (the name a plan and a profile use) and what the CUDA 13
 * backend can run on it. Names and compute capabilities are those the cards report.
 */
class DeviceFactsTest {
    /** The facts a card reports that these tests read: name and compute capability (the rest fixed). */
    static DeviceFacts card(String name, int major, int minor) {
        return new DeviceFacts(0, name, major, minor, 16L << 30, 40, 4L << 20, 0, 0, "0000:00:04.0", 0, 0);
    }

    @Test
    void aCardsTypeIsItsModelNotAPrefixOfAnother() {
        assertEquals("t4", card("Tesla T4", 7, 5).cardTag());
        assertEquals("l4", card("NVIDIA L4", 8, 9).cardTag());
        assertEquals("l40", card("NVIDIA L40", 8, 9).cardTag(), "an L40 (48 GB) is not an L4 (24 GB)");
        assertEquals("l40s", card("NVIDIA L40S", 8, 9).cardTag());
        assertEquals("a10", card("NVIDIA A10", 8, 6).cardTag());
        assertEquals("a10", card("NVIDIA A10G", 8, 6).cardTag());
        assertEquals("a100", card("NVIDIA A100-SXM4-40GB", 8, 0).cardTag());
        assertEquals("h100", card("NVIDIA H100 80GB HBM3", 9, 0).cardTag());
        assertEquals("v100", card("Tesla V100-SXM2-32GB", 7, 0).cardTag());
        assertEquals("nvidia-rtx-a6000", card("NVIDIA RTX A6000", 8, 6).cardTag(), "unknown: the name, file-safe");
    }

    @Test
    void computeCapabilityDecidesWhatTheBackendRuns() {
        DeviceFacts t4 = card("Tesla T4", 7, 5);
        assertNull(t4.whyUnsupported());
        assertTrue(card("Tesla V100-SXM2-32GB", 7, 0).whyUnsupported().contains("7.5 and later"));
        for (Precision p : new Precision[] {Precision.FP32, Precision.FP16, Precision.INT8}) {
            assertNull(t4.whyCannotRun(p), p.toString());
        }
        for (Precision p : new Precision[] {Precision.TF32, Precision.BF16, Precision.FP8_E4M3, Precision.FP8_E5M2}) {
            assertTrue(t4.whyCannotRun(p).contains("Tesla T4 is 7.5"), p.toString());
        }
        DeviceFacts a10 = card("NVIDIA A10", 8, 6);
        assertTrue(a10.hasTf32() && !a10.hasFp8());
        assertNull(a10.whyCannotRun(Precision.BF16));
        assertTrue(a10.whyCannotRun(Precision.FP8_E4M3).contains("8.9"));
        DeviceFacts l4 = card("NVIDIA L4", 8, 9);
        assertTrue(l4.hasFp8());
        assertNull(l4.whyCannotRun(Precision.FP8_E4M3));
    }
}
