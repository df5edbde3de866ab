package io.qsync.spark.devices;

import io.qsync.lowprec.cuda.CudaPresence;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import scala.Option;

/**
 * Finds the device of one barrier task. A task's GPU is the first "gpu" address Spark assigned it
 * ({@code TaskContext.resources()}: {@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount}
 * and a discovery script; in local mode the driver's {@code spark.driver.resource.gpu.*}); without one, a process that
 * sees CUDA devices (local mode on a GPU machine) takes device {@code rank mod count}. A GPU's facts come from
 * cudart/NVML ({@link CudaFacts}); a task that was given an address but cannot use CUDA (no driver, no presets) trains
 * on the CPU and says so in {@link WorkerDevice#note()}. A CPU worker is a device type too: its instruction set and
 * threads. {@code spark.qsync.plan.devices} overrides the type name by rank; {@code spark.qsync.device.cpuWorkers}
 * makes the last ranks CPU workers.
 */
public final class DeviceDiscovery {
    /** Spark's resource name for GPUs. */
    public static final String GPU_RESOURCE = "gpu";

    private DeviceDiscovery() {}

    /**
     * @param ctx        the running task
     * @param rank       its rank
     * @param numWorkers ranks of the job
     * @param host       the executor's host
     * @param threads    host threads the worker trains with
     * @param backend    the job's {@code spark.qsync.backend}: with {@code cpu} every worker is a CPU worker
     * @param options    overrides
     * @return the task's device
     */
    public static WorkerDevice inTask(
            TaskContext ctx,
            int rank,
            int numWorkers,
            String host,
            int threads,
            String backend,
            DiscoveryOptions options) {
        return discover(rank, numWorkers, host, gpuAddresses(ctx), threads, backend, options);
    }

    /** @return the "gpu" addresses Spark assigned the task (empty when it assigned none) */
    public static List<String> gpuAddresses(TaskContext ctx) {
        Option<ResourceInformation> gpu = ctx.resources().get(GPU_RESOURCE);
        return gpu.isDefined() ? List.of(gpu.get().addresses()) : List.of();
    }

    /**
     * The device of a rank given the GPU addresses Spark assigned it.
     *
     * @param addresses Spark's GPU addresses for the task (may be empty)
     * @return the device, its type overridden where {@code options} says so
     */
    static WorkerDevice discover(
            int rank,
            int numWorkers,
            String host,
            List<String> addresses,
            int threads,
            String backend,
            DiscoveryOptions options) {
        WorkerDevice d;
        String address = addresses.isEmpty() ? "" : addresses.get(0);
        if (options.cpuRank(rank, numWorkers)) {
            d = cpu(rank, host, address, threads, "spark.qsync.device.cpuWorkers=" + options.cpuWorkers());
        } else if ("cpu".equals(backend)) {
            d = cpu(rank, host, address, threads, address.isEmpty() ? "" : "spark.qsync.backend=cpu");
        } else {
            String why = CudaPresence.whyUnavailable();
            if (why != null) {
                d = cpu(
                        rank,
                        host,
                        address,
                        threads,
                        address.isEmpty()
                                ? ""
                                : "Spark assigned GPU " + address + " but this process cannot use CUDA (" + why
                                        + "); training on the CPU");
            } else {
                d = gpuOrCpu(rank, numWorkers, host, address, threads, options);
            }
        }
        if (!options.typesByRank().isEmpty()) {
            if (options.typesByRank().size() != numWorkers) {
                throw new IllegalArgumentException("spark.qsync.plan.devices names "
                        + options.typesByRank().size()
                        + " device type(s) " + options.typesByRank() + " for " + numWorkers
                        + " workers; give one per rank or leave it empty to discover them");
            }
            String named = options.typesByRank().get(rank);
            if (!named.isBlank()) {
                d = d.withType(named, "type named by spark.qsync.plan.devices");
            }
        }
        return d;
    }

    private static WorkerDevice gpuOrCpu(
            int rank, int numWorkers, String host, String address, int threads, DiscoveryOptions options) {
        int ordinal;
        String note = "";
        if (!address.isEmpty()) {
            try {
                ordinal = Integer.parseInt(address.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Spark assigned GPU address '" + address + "', which is not a "
                        + "CUDA ordinal; make the GPU discovery script (spark.executor.resource.gpu.discoveryScript) "
                        + "report ordinals such as \"0\"");
            }
        } else {
            int count = CudaFacts.visibleDevices();
            if (count == 0) {
                return cpu(rank, host, "", threads, "");
            }
            ordinal = rank % count;
            note = "no GPU assigned by Spark; visible device " + ordinal + " of " + count;
        }
        return CudaFacts.describe(rank, host, address, ordinal, threads, options.smFraction(), note);
    }

    private static WorkerDevice cpu(int rank, String host, String address, int threads, String note) {
        String isa = CpuFacts.isa();
        return new WorkerDevice(
                rank,
                host,
                WorkerDevice.CPU,
                CpuFacts.type(isa, threads),
                address,
                -1,
                CpuFacts.modelName(),
                0,
                Runtime.getRuntime().maxMemory(),
                "",
                threads,
                isa,
                note);
    }
}
