package io.qsync.spark;

import io.qsync.comm.CommConfig;
import io.qsync.runtime.Backends;
import io.qsync.runtime.RuntimeParams;
import io.qsync.runtime.TrainingBackend;
import io.qsync.spark.devices.DiscoveryOptions;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Everything the driver needs to launch a training job, read from {@code spark.qsync.*} settings.
 *
 * @param numWorkers  barrier tasks ({@code spark.qsync.numWorkers})
 * @param runtime     parameters every worker receives
 * @param comm        collective timeouts and chunking
 * @param featuresCol features column ({@code spark.qsync.featuresCol})
 * @param labelCol    label column ({@code spark.qsync.labelCol})
 * @param progress    stream progress to the driver ({@code spark.qsync.progress})
 * @param planFile    cluster plan JSON ({@code spark.qsync.plan.file}), empty for none
 * @param planDevices device type per worker rank ({@code spark.qsync.plan.devices}), empty without a plan file
 * @param faults      waiting for slots, ring security, checkpoints ({@link FaultSettings})
 * @param autoPlan    planning inside the job ({@code spark.qsync.plan=auto})
 * @param devices     how tasks decide their device (type overrides, CPU workers, SM slices)
 */
public record TrainSettings(
        int numWorkers,
        RuntimeParams runtime,
        CommConfig comm,
        String featuresCol,
        String labelCol,
        boolean progress,
        String planFile,
        List<String> planDevices,
        FaultSettings faults,
        AutoPlanSettings autoPlan,
        DiscoveryOptions devices)
        implements Serializable {

    /** Validates. */
    public TrainSettings {
        if (numWorkers < 1) {
            throw new IllegalArgumentException("spark.qsync.numWorkers must be >= 1, got " + numWorkers);
        }
        planFile = planFile == null ? "" : planFile.trim();
        planDevices = planDevices == null ? List.of() : List.copyOf(planDevices);
        autoPlan = autoPlan == null ? AutoPlanSettings.off() : autoPlan;
        devices = devices == null ? DiscoveryOptions.discovered() : devices;
        if (autoPlan.auto() && !planFile.isEmpty()) {
            throw new IllegalArgumentException("spark.qsync.plan=auto and spark.qsync.plan.file=" + planFile
                    + " were both given; drop one (auto plans inside the job, the file is a plan made before)");
        }
        if (autoPlan.auto() && !planDevices.isEmpty() && planDevices.size() != numWorkers) {
            throw new IllegalArgumentException("spark.qsync.plan.devices names " + planDevices.size()
                    + " device type(s) " + planDevices + " but spark.qsync.numWorkers=" + numWorkers
                    + "; give one per rank (an empty entry keeps the discovered type)");
        }
        if (planFile.isEmpty() && !planDevices.isEmpty() && !autoPlan.auto()) {
            throw new IllegalArgumentException(
                    "spark.qsync.plan.devices is set but spark.qsync.plan.file is not; give the "
                            + "plan file written by `qsync plan`, or drop spark.qsync.plan.devices");
        }
        if (!planFile.isEmpty() && planDevices.isEmpty()) {
            throw new IllegalArgumentException(
                    "spark.qsync.plan.file needs spark.qsync.plan.devices: the device type of " + "each of the "
                            + numWorkers + " workers by rank, e.g. V100,T4");
        }
    }

    /** Settings without planning inside the job and with discovered devices. */
    public TrainSettings(
            int numWorkers,
            RuntimeParams runtime,
            CommConfig comm,
            String featuresCol,
            String labelCol,
            boolean progress,
            String planFile,
            List<String> planDevices,
            FaultSettings faults) {
        this(numWorkers, runtime, comm, featuresCol, labelCol, progress, planFile, planDevices, faults, null, null);
    }

    /**
     * @param n                workers left
     * @param typesOfKeptRanks device types of the ranks kept, in rank order
     * @param cpuWorkers       how many of them are CPU workers by {@code spark.qsync.device.cpuWorkers}
     * @return a copy for the ranks a plan keeps when it leaves a device type out
     */
    public TrainSettings withWorkers(int n, List<String> typesOfKeptRanks, int cpuWorkers) {
        return new TrainSettings(
                n,
                runtime,
                comm,
                featuresCol,
                labelCol,
                progress,
                planFile,
                planDevices.isEmpty() ? planDevices : typesOfKeptRanks,
                faults,
                autoPlan,
                new DiscoveryOptions(
                        devices.typesByRank().isEmpty() ? List.of() : typesOfKeptRanks,
                        cpuWorkers,
                        devices.smFraction(),
                        devices.weakMemoryBytes()));
    }

    /**
     * Reads and validates every setting; a bad value fails with one line naming key and value, an unknown
     * {@code spark.qsync.*} key is logged as a warning.
     */
    public static TrainSettings from(Map<String, String> s) {
        QSyncConf.warnUnknown(s);
        RuntimeParams rp = new RuntimeParams(
                QSyncConf.EPOCHS.read(s),
                QSyncConf.BATCH_SIZE.read(s),
                QSyncConf.NUM_CLASSES.read(s),
                QSyncConf.SHUFFLE.read(s),
                QSyncConf.SEED.read(s),
                QSyncConf.CHECKSUM_EVERY.read(s),
                QSyncConf.THREADS_PER_WORKER.read(s),
                backendOf(s),
                QSyncConf.BUCKET_BYTES.read(s));
        CommConfig cc = new CommConfig(
                QSyncConf.CONNECT_TIMEOUT.read(s),
                QSyncConf.IO_TIMEOUT.read(s),
                QSyncConf.CHUNK_BYTES.read(s),
                QSyncConf.CONNECTIONS.read(s),
                QSyncConf.COLLECTIVE.read(s));
        String devices = QSyncConf.PLAN_DEVICES.read(s).trim();
        List<String> byRank = devices.isEmpty()
                ? List.of()
                : Arrays.stream(devices.split(",", -1)).map(String::trim).toList();
        return new TrainSettings(
                QSyncConf.NUM_WORKERS.read(s),
                rp,
                cc,
                QSyncConf.FEATURES_COL.read(s),
                QSyncConf.LABEL_COL.read(s),
                QSyncConf.PROGRESS.read(s),
                QSyncConf.PLAN_FILE.read(s),
                byRank,
                FaultSettings.from(s),
                AutoPlanSettings.from(s),
                new DiscoveryOptions(
                        byRank,
                        QSyncConf.DEVICE_CPU_WORKERS.read(s),
                        QSyncConf.SM_FRACTION.read(s),
                        (long) QSyncConf.WEAK_MEMORY_MIB.read(s) << 20));
    }

    /** The backend setting; a name must be on the class path (whether it can run is decided on each executor). */
    private static String backendOf(Map<String, String> s) {
        String name = QSyncConf.BACKEND.read(s);
        if (!name.equals(Backends.AUTO) && Backends.find(name).isEmpty()) {
            throw new IllegalArgumentException("invalid " + QSyncConf.BACKEND.key() + "=" + name
                    + ": no such backend on " + "the class path; known: "
                    + Backends.all().stream().map(TrainingBackend::name).toList() + " or auto");
        }
        return name;
    }
}
