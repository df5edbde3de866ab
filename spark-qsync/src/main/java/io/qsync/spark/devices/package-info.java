/**
 * Which device each barrier task trains on, found the Spark way: a task's GPU comes from Spark's resource scheduling
 * ({@code TaskContext.resources()} "gpu" addresses, from {@code spark.executor.resource.gpu.*},
 * {@code spark.task.resource.gpu.amount} and a discovery script), in local mode from the devices the process sees;
 * its facts (cudart/NVML for a GPU, cores and instruction set for a CPU) name its device type. The training stage
 * asks for GPUs with stage-level scheduling where the cluster manager supports it ({@link
 * io.qsync.spark.devices.GpuStageResources}).
 */
package io.qsync.spark.devices;
