package io.qsync.spark.devices;

import java.util.Optional;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfileBuilder;
import org.apache.spark.resource.TaskResourceRequests;

/**
 * Stage-level scheduling of the training stage, decided as XGBoost4J-Spark decides it: when executors hold one GPU
 * each and several tasks share it ({@code spark.task.resource.gpu.amount} below 1, or unset, so that the ETL stages run
 * many tasks per GPU), the barrier stage asks for a whole GPU and more than half of the executor's cores per task, so
 * that exactly one worker lands on each executor and its GPU. Only where the cluster manager supports task resource
 * profiles without dynamic allocation (standalone and {@code local-cluster} from Spark 3.4, YARN and Kubernetes); in
 * local mode every task sees the driver's GPUs, and a task asking for a GPU already gets one of its own.
 */
public final class GpuStageResources {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GpuStageResources.class);

    private GpuStageResources() {}

    /**
     * The decision, with its reason for the log.
     *
     * @param profile the training stage's resource profile, if it needs one
     * @param reason  why (one line)
     */
    public record Decision(Optional<ResourceProfile> profile, String reason) {}

    /**
     * @param conf         the application's conf
     * @param master       the master URL
     * @param sparkVersion Spark's version, e.g. {@code 4.0.1}
     * @return whether and how the training stage asks for GPUs
     */
    public static Decision decide(SparkConf conf, String master, String sparkVersion) {
        boolean standalone = master.startsWith("spark://") || master.startsWith("local-cluster");
        if (!standalone && !master.startsWith("yarn") && !master.startsWith("k8s://")) {
            return none("master " + master + " has no stage-level scheduling of task resources");
        }
        if (standalone && olderThan(sparkVersion, 3, 4)) {
            return none("Spark " + sparkVersion + " < 3.4 has no task resource profiles on standalone clusters");
        }
        Optional<String> gpus = get(conf, "spark.executor.resource.gpu.amount");
        if (gpus.isEmpty()) {
            return none("no GPUs requested (spark.executor.resource.gpu.amount unset): CPU workers");
        }
        if (!gpus.get().trim().equals("1")) {
            return none("spark.executor.resource.gpu.amount=" + gpus.get()
                    + ": stage-level scheduling needs one GPU per executor; tasks take Spark's addresses as given");
        }
        int cores =
                Integer.parseInt(get(conf, "spark.executor.cores").orElse("1").trim());
        if (cores <= 1) {
            return none("spark.executor.cores=" + cores + ": one task per executor already");
        }
        Optional<String> task = get(conf, "spark.task.resource.gpu.amount");
        if (task.isPresent() && Double.parseDouble(task.get().trim()) >= 1) {
            return none("spark.task.resource.gpu.amount=" + task.get() + ": every task already has a GPU of its own");
        }
        int taskCores = cores / 2 + 1;
        ResourceProfile rp = new ResourceProfileBuilder()
                .require(new TaskResourceRequests().cpus(taskCores).resource(DeviceDiscovery.GPU_RESOURCE, 1.0))
                .build();
        return new Decision(
                Optional.of(rp),
                "training stage asks for 1 GPU and " + taskCores + " of " + cores
                        + " cores per task (stage-level scheduling): one worker per executor and GPU");
    }

    /**
     * @param stage the RDD of a barrier stage (probe or training)
     * @param sc    the job's context
     * @return {@code stage}, with the GPU resource profile when {@link #decide} asks for one (logged either way)
     */
    public static <T> org.apache.spark.rdd.RDD<T> apply(org.apache.spark.rdd.RDD<T> stage, SparkContext sc) {
        Decision d = decide(sc.getConf(), sc.master(), sc.version());
        LOG.info("qsync stage-level scheduling: {}", d.reason());
        return d.profile().isPresent() ? stage.withResources(d.profile().get()) : stage;
    }

    private static Decision none(String why) {
        return new Decision(Optional.empty(), why);
    }

    private static Optional<String> get(SparkConf conf, String key) {
        return conf.contains(key) ? Optional.of(conf.get(key)) : Optional.empty();
    }

    static boolean olderThan(String version, int major, int minor) {
        String[] p = version.split("[.-]");
        int ma = Integer.parseInt(p[0]);
        int mi = p.length > 1 ? Integer.parseInt(p[1]) : 0;
        return ma < major || (ma == major && mi < minor);
    }
}
