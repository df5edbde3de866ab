package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.CU_DEV_RESOURCE_TYPE_SM;
import static org.bytedeco.cuda.global.cudart.cuCtxGetCurrent;
import static org.bytedeco.cuda.global.cudart.cuCtxGetDevResource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUdevResource_st;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The experimental SM slicing on a real device: the weak and the strong slice of device 0 do not overlap in count
 * (together at most the device's SMs), the weak one holds about its share of the SMs (within one 8-SM group), and once installed the thread's current context is the slice (the driver reports
 * the slice's SMs for it). Skipped, with the reason, where there is no CUDA device (CI).
 */
class GreenContextGpuTest {
    @Test
    void aQuarterSliceAndTheRestSplitDeviceZero() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
        try (GreenContext weak = GreenContext.create(0, 0.25, true, 8L << 30);
                GreenContext strong = GreenContext.create(0, 0.25, false, 0)) {
            int total = weak.deviceSms();
            assertTrue(Math.abs(weak.smCount() - 0.25 * total) <= 8, "about a quarter of " + total + ": " + weak);
            assertTrue(weak.smCount() + strong.smCount() <= total, weak + " + " + strong);
            assertTrue(strong.smCount() >= total / 2, strong.toString());
            weak.install();
            assertEquals(8L << 30, GreenContext.installedMemoryCap());
            try (CUdevResource_st r = new CUdevResource_st()) {
                CUctx_st current = new CUctx_st();
                assertEquals(0, cuCtxGetCurrent(current));
                assertEquals(0, cuCtxGetDevResource(current, r, CU_DEV_RESOURCE_TYPE_SM));
                assertEquals(weak.smCount(), r.sm().smCount(), "SMs of the current context");
            }
        }
        assertEquals(0, GreenContext.installedMemoryCap(), "closing forgets the installed slice");
    }
}
