package io.qsync.spark.devices;

import io.qsync.lowprec.cuda.CudaDevice;
import io.qsync.lowprec.cuda.DeviceFacts;
import io.qsync.lowprec.cuda.SmSlice;

/**
 * A GPU worker's facts from cudart/NVML ({@link CudaDevice}). Only called where {@code CudaPresence} says CUDA can be
 * used, so a CPU-only process never loads the CUDA presets.
 */
final class CudaFacts {
    private CudaFacts() {}

    /** @return CUDA devices this process sees */
    static int visibleDevices() {
        return CudaDevice.count();
    }

    /**
     * Opens device {@code ordinal} on this thread and describes it; with an SM fraction, the worker's slice of the SMs
     * (even ranks the larger part, odd ranks {@code smFraction}) names the type, e.g. {@code h100-32sm}.
     */
    static WorkerDevice describe(
            int rank, String host, String address, int ordinal, int threads, double smFraction, String note) {
        DeviceFacts f = CudaDevice.open(ordinal).facts();
        int sms = f.smCount();
        String type = f.cardTag();
        if (smFraction > 0) { // one worker: rank 0, the strong slice alone
            double share = rank % 2 == 1 ? smFraction : 1 - smFraction;
            sms = SmSlice.smCount(f.smCount(), f.ccMajor(), share);
            type = type + "-" + sms + "sm";
            note = (note.isEmpty() ? "" : note + "; ") + "experimental SM slice " + sms + " of " + f.smCount();
        }
        return new WorkerDevice(
                rank,
                host,
                WorkerDevice.GPU,
                type,
                address,
                ordinal,
                f.name(),
                sms,
                f.totalMemBytes(),
                f.ccMajor() + "." + f.ccMinor(),
                threads,
                "",
                note);
    }
}
