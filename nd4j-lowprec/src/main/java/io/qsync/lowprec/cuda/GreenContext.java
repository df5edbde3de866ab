package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_DEV_RESOURCE_TYPE_SM;
import static org.bytedeco.cuda.global.cudart.CU_DEV_RESOURCE_TYPE_WORKQUEUE_CONFIG;
import static org.bytedeco.cuda.global.cudart.CU_GREEN_CTX_DEFAULT_STREAM;
import static org.bytedeco.cuda.global.cudart.CU_WORKQUEUE_SCOPE_GREEN_CTX_BALANCED;
import static org.bytedeco.cuda.global.cudart.cuCtxFromGreenCtx;
import static org.bytedeco.cuda.global.cudart.cuCtxSetCurrent;
import static org.bytedeco.cuda.global.cudart.cuDevResourceGenerateDesc;
import static org.bytedeco.cuda.global.cudart.cuDevSmResourceSplitByCount;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetDevResource;
import static org.bytedeco.cuda.global.cudart.cuGreenCtxDestroy;
import static org.bytedeco.cuda.global.cudart.cuInit;

import java.util.Optional;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUdevResourceDesc_st;
import org.bytedeco.cuda.cudart.CUdevResource_st;
import org.bytedeco.cuda.cudart.CUgreenCtx_st;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * <b>Experimental.</b> A slice of one GPU's streaming multiprocessors as a CUDA green context (driver API, CUDA ≥ 12.4:
 * {@code cuDeviceGetDevResource}, {@code cuDevSmResourceSplitByCount}, {@code cuGreenCtxCreate},
 * {@code cuCtxFromGreenCtx}), plus a device-memory cap, so that two workers on one card behave like a strong and a
 * weak GPU. Every worker on the card computes the same split of the device's SMs ({@link SmSlice}: about
 * {@code weakShare} of them, at the architecture's granularity, and the remainder), and takes one side, so the slices
 * are disjoint.
 *
 * <p>What it emulates: fewer SMs (compute throughput, tensor-core and CUDA-core count, concurrent blocks) and less
 * memory for the model. What it does not: memory bandwidth and L2 (both slices share the card's HBM and cache, so
 * the weak slice has far more bandwidth per SM than a real small card), clocks and power limits (the slice runs at the
 * card's clocks), the smaller card's architecture and precision support (an H100 slice keeps FP8 and its tensor cores),
 * PCIe and host links. The memory cap ({@link #installedMemoryCap()}) is enforced by the CUDA engine's allocator
 * ({@link CudaTensorOps}), not by the driver: other allocations in the process are not counted.
 *
 * <p>Use: {@link #create} then {@link #install()} on the worker's thread before its engine opens, and
 * {@link #reapply()} after anything that makes the device's primary context current again ({@code cudaSetDevice}).
 */
public final class GreenContext implements AutoCloseable {
    private static final ThreadLocal<GreenContext> INSTALLED = new ThreadLocal<>();

    private final int ordinal;
    private final int smCount;
    private final int deviceSms;
    private final long memoryCapBytes;
    private final String workqueues;
    private CUgreenCtx_st green;
    private final CUctx_st context;

    private GreenContext(
            int ordinal,
            int smCount,
            int deviceSms,
            long memoryCapBytes,
            String workqueues,
            CUgreenCtx_st green,
            CUctx_st context) {
        this.ordinal = ordinal;
        this.workqueues = workqueues;
        this.smCount = smCount;
        this.deviceSms = deviceSms;
        this.memoryCapBytes = memoryCapBytes;
        this.green = green;
        this.context = context;
    }

    /**
     * Creates a green context on one side of the device's SM split.
     *
     * @param ordinal        CUDA device ordinal
     * @param weakShare      share of the SMs in the weak slice, in (0, 1)
     * @param weak           true: take the weak slice; false: the rest
     * @param memoryCapBytes device memory this worker may allocate (0 = no cap)
     * @return the green context (not yet current)
     * @throws CudaException if the driver cannot split the device (driver older than 12.4, MIG, too few SMs)
     */
    public static GreenContext create(int ordinal, double weakShare, boolean weak, long memoryCapBytes) {
        if (!(weakShare > 0 && weakShare < 1) || memoryCapBytes < 0) {
            throw new IllegalArgumentException(
                    "a green context needs a weak share in (0, 1) and a memory cap >= 0, got " + weakShare + ", "
                            + memoryCapBytes);
        }
        Check.driver("cuInit(0)", cuInit(0));
        try (IntPointer dev = new IntPointer(1);
                IntPointer groups = new IntPointer(1);
                CUdevResource_st all = new CUdevResource_st();
                CUdevResource_st slice = new CUdevResource_st();
                CUdevResource_st rest = new CUdevResource_st()) {
            Check.driver("cuDeviceGet(" + ordinal + ")", cuDeviceGet(dev, ordinal));
            Check.driver("cuDeviceGetDevResource(SM)", cuDeviceGetDevResource(dev.get(), all, CU_DEV_RESOURCE_TYPE_SM));
            int total = all.sm().smCount();
            int align = all.sm().smCoscheduledAlignment();
            int min = all.sm().minSmPartitionSize();
            int weakSms = align > 0 && min > 0
                    ? SmSlice.smCount(total, align, min, weakShare)
                    : SmSlice.smCount(total, 9, weakShare); // older drivers leave the fields 0: Hopper's rule
            if (weakSms >= total) {
                throw new CudaException(
                        "device " + ordinal + " has " + total + " SMs: too few to split off " + weakShare, 1);
            }
            groups.put(1);
            Check.driver(
                    "cuDevSmResourceSplitByCount(min " + weakSms + ")",
                    cuDevSmResourceSplitByCount(slice, groups, all, rest, 0, weakSms));
            CUdevResource_st mine = weak ? slice : rest;
            CUdevResourceDesc_st desc = new CUdevResourceDesc_st();
            String workqueues = balancedWorkqueues(dev.get(), mine, desc);
            if (workqueues == null) {
                Check.driver("cuDevResourceGenerateDesc", cuDevResourceGenerateDesc(desc, mine, 1));
                workqueues = "work queues shared with the device's other contexts";
            }
            CUgreenCtx_st g = new CUgreenCtx_st();
            Check.driver("cuGreenCtxCreate", cuGreenCtxCreate(g, desc, dev.get()));
            CUctx_st c = new CUctx_st();
            Check.driver("cuCtxFromGreenCtx", cuCtxFromGreenCtx(c, g));
            return new GreenContext(ordinal, mine.sm().smCount(), total, memoryCapBytes, workqueues, g, c);
        }
    }

    /**
     * Describes the SM slice together with a work-queue configuration that keeps this context's streams off the work
     * queues of the other balanced green contexts, where the driver offers that resource (driver 580, CUDA 13.0, does
     * not), unless
     * {@code -Dqsync.cuda.greenWorkqueues=shared}. With shared queues a stream of one slice can sit in a hardware
     * queue behind another slice's stream waiting on an event, so that one worker's step waits for the other's.
     *
     * @return what was arranged, or null when the driver offers no work-queue configuration (then {@code desc} is
     *     untouched)
     */
    private static String balancedWorkqueues(int dev, CUdevResource_st sm, CUdevResourceDesc_st desc) {
        if ("shared".equals(System.getProperty("qsync.cuda.greenWorkqueues"))) {
            return null;
        }
        try (CUdevResource_st wq = new CUdevResource_st()) {
            int rc = cuDeviceGetDevResource(dev, wq, CU_DEV_RESOURCE_TYPE_WORKQUEUE_CONFIG);
            if (rc != CUDA_SUCCESS) {
                return null;
            }
            wq.wqConfig().sharingScope(CU_WORKQUEUE_SCOPE_GREEN_CTX_BALANCED);
            long size = Loader.sizeof(CUdevResource_st.class);
            try (CUdevResource_st both = new CUdevResource_st(2)) {
                Pointer.memcpy(both.getPointer(0), sm, size);
                Pointer.memcpy(both.getPointer(1), wq, size);
                rc = cuDevResourceGenerateDesc(desc, both, 2);
            }
            return rc == CUDA_SUCCESS
                    ? "work queues apart from the other balanced green contexts ("
                            + wq.wqConfig().wqConcurrencyLimit() + " concurrent stream workloads)"
                    : null;
        }
    }

    private static int cuGreenCtxCreate(CUgreenCtx_st g, CUdevResourceDesc_st desc, int dev) {
        return org.bytedeco.cuda.global.cudart.cuGreenCtxCreate(g, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM);
    }

    /** Makes the slice's context current on this thread and remembers it for {@link #reapply()}. */
    public void install() {
        if (green == null) {
            throw new IllegalStateException("green context of device " + ordinal + " is closed");
        }
        Check.driver("cuCtxSetCurrent(green)", cuCtxSetCurrent(context));
        INSTALLED.set(this);
    }

    /** Makes this thread's installed slice current again (after {@code cudaSetDevice}); no-op without one. */
    public static void reapply() {
        GreenContext g = INSTALLED.get();
        if (g != null) {
            g.install();
        }
    }

    /** @return the slice installed on this thread, if any */
    public static Optional<GreenContext> installed() {
        return Optional.ofNullable(INSTALLED.get());
    }

    /** @return the memory cap of the slice installed on this thread (0 = none or no slice) */
    public static long installedMemoryCap() {
        GreenContext g = INSTALLED.get();
        return g == null ? 0 : g.memoryCapBytes;
    }

    /** @return SMs of this slice, as the driver made it */
    public int smCount() {
        return smCount;
    }

    /** @return SMs of the whole device */
    public int deviceSms() {
        return deviceSms;
    }

    /** @return the device memory cap in bytes (0 = none) */
    public long memoryCapBytes() {
        return memoryCapBytes;
    }

    /** Destroys the green context (work on it must have finished) and forgets it on this thread. */
    @Override
    public void close() {
        if (INSTALLED.get() == this) {
            INSTALLED.remove();
        }
        if (green != null) {
            Check.driver("cuGreenCtxDestroy", cuGreenCtxDestroy(green));
            green = null;
        }
    }

    @Override
    public String toString() {
        return "green context on cuda:" + ordinal + ", " + smCount + " of " + deviceSms + " SMs"
                + (memoryCapBytes > 0 ? ", memory cap " + (memoryCapBytes >> 20) + " MiB" : "") + ", " + workqueues;
    }
}
