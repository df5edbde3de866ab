package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.*;
import static org.bytedeco.cuda.global.nvml.*;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.nvml.nvmlDevice_st;
import org.bytedeco.javacpp.IntPointer;

/**
 * One CUDA device selected by ordinal (Spark hands executors GPU ordinals). Opening makes it current for the
 * calling thread and reads its {@link DeviceFacts}; {@link #close()} synchronizes it. Buffers come from an
 * {@link DeviceAllocator} bound to this device.
 */
public final class CudaDevice implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CudaDevice.class);
    private final DeviceFacts facts;

    private CudaDevice(DeviceFacts facts) {
        this.facts = facts;
    }

    /** @return number of visible CUDA devices (0 when the driver has none) */
    public static int count() {
        try (IntPointer n = new IntPointer(1)) {
            int rc = cudaGetDeviceCount(n);
            return rc == 0 ? n.get() : 0;
        }
    }

    /**
     * Selects device {@code ordinal} for this thread and reads its facts.
     *
     * @param ordinal CUDA ordinal
     * @return the open device
     */
    public static CudaDevice open(int ordinal) {
        int n = count();
        if (ordinal < 0 || ordinal >= n) {
            throw new CudaException("cudaSetDevice(" + ordinal + ") failed: only " + n + " device(s) visible", 101);
        }
        Check.cuda("cudaSetDevice(" + ordinal + ")", cudaSetDevice(ordinal));
        Check.driver("cuInit(0)", cuInit(0));
        Check.cuda("cudaFree(null) [context init]", cudaFree(null));
        // cudaSetDevice made the primary context current: an SM slice installed on this thread takes over again
        GreenContext.reapply();
        try (cudaDeviceProp p = new cudaDeviceProp();
                IntPointer v = new IntPointer(1)) {
            Check.cuda("cudaGetDeviceProperties(" + ordinal + ")", cudaGetDeviceProperties(p, ordinal));
            Check.cuda("cudaDriverGetVersion", cudaDriverGetVersion(v));
            int driver = v.get();
            Check.cuda("cudaRuntimeGetVersion", cudaRuntimeGetVersion(v));
            int runtime = v.get();
            byte[] bus = new byte[64];
            Check.cuda("cudaDeviceGetPCIBusId", cudaDeviceGetPCIBusId(bus, bus.length, ordinal));
            String busId = cString(bus);
            String name = p.name().getString();
            int[] clocks = new int[2];
            String nvmlName = nvmlFacts(busId, clocks);
            if (nvmlName != null) {
                name = nvmlName;
            }
            int smClock = clocks[0];
            int memClock = clocks[1];
            return new CudaDevice(new DeviceFacts(
                    ordinal,
                    name,
                    p.major(),
                    p.minor(),
                    p.totalGlobalMem(),
                    p.multiProcessorCount(),
                    p.l2CacheSize(),
                    smClock,
                    memClock,
                    busId,
                    driver,
                    runtime));
        }
    }

    /**
     * Reads the device's name and maximum SM and memory clocks from NVML; NVML is shut down again on every path.
     *
     * @param busId  the device's PCI bus id
     * @param clocks out: {SM clock, memory clock} in MHz (left 0 when NVML cannot tell)
     * @return NVML's device name, or null when NVML is unavailable or does not know the device (logged; the
     *         cudart facts are used then)
     */
    static String nvmlFacts(String busId, int[] clocks) {
        try {
            Check.nvml("nvmlInit_v2", nvmlInit_v2());
        } catch (CudaException | UnsatisfiedLinkError e) {
            LOG.warn("NVML unavailable, using cudart facts only: {}", e.getMessage());
            return null;
        }
        try (IntPointer v = new IntPointer(1);
                org.bytedeco.javacpp.BytePointer bus = new org.bytedeco.javacpp.BytePointer(busId)) {
            nvmlDevice_st dev = new nvmlDevice_st();
            Check.nvml("nvmlDeviceGetHandleByPciBusId_v2(" + busId + ")", nvmlDeviceGetHandleByPciBusId_v2(bus, dev));
            byte[] nm = new byte[96];
            Check.nvml("nvmlDeviceGetName", nvmlDeviceGetName(dev, nm, nm.length));
            Check.nvml("nvmlDeviceGetMaxClockInfo(SM)", nvmlDeviceGetMaxClockInfo(dev, NVML_CLOCK_SM, v));
            clocks[0] = v.get();
            Check.nvml("nvmlDeviceGetMaxClockInfo(MEM)", nvmlDeviceGetMaxClockInfo(dev, NVML_CLOCK_MEM, v));
            clocks[1] = v.get();
            return cString(nm);
        } catch (CudaException e) {
            LOG.warn("NVML does not describe device {}, using cudart facts only: {}", busId, e.getMessage());
            return null;
        } finally {
            nvmlShutdown();
        }
    }

    /** @return the device facts read at open */
    public DeviceFacts facts() {
        return facts;
    }

    /** Makes this device current for the calling thread (CUDA's current device is per thread). */
    public void makeCurrent() {
        Check.cuda("cudaSetDevice(" + facts.ordinal() + ")", cudaSetDevice(facts.ordinal()));
    }

    /** Blocks until all work on the device has finished; throws if any of it failed. */
    public void synchronize() {
        Check.cuda("cudaDeviceSynchronize", cudaDeviceSynchronize());
        Check.cuda("cudaGetLastError", cudaGetLastError());
    }

    /** @return free device memory in bytes (cudaMemGetInfo) */
    public long freeBytes() {
        try (org.bytedeco.javacpp.SizeTPointer f = new org.bytedeco.javacpp.SizeTPointer(1);
                org.bytedeco.javacpp.SizeTPointer t = new org.bytedeco.javacpp.SizeTPointer(1)) {
            Check.cuda("cudaMemGetInfo", cudaMemGetInfo(f, t));
            return f.get();
        }
    }

    @Override
    public void close() {
        synchronize();
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, java.nio.charset.StandardCharsets.US_ASCII).trim();
    }
}
