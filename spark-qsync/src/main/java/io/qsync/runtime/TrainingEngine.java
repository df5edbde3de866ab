package io.qsync.runtime;

import java.nio.FloatBuffer;
import org.deeplearning4j.nn.api.Model;

/**
 * One replica of the network being trained, on one device: what a worker's synchronous loop ({@link WorkerLoop},
 * {@link SyncStep}) needs, whatever computes it. A backend ({@link TrainingBackend}) opens engines; device memory,
 * streams and kernels stay behind this interface, and everything crossing it is host memory in DL4J's layouts:
 *
 * <ul>
 *   <li>the flat parameter vector, the flat gradient and the flat updater state are laid out exactly as DL4J lays out
 *       {@code params()}, {@code getGradientsViewArray()} and the updater's state view for the same configuration,
 *       so engines of different backends can share one all-reduce ring and a checkpoint is a plain DL4J model;</li>
 *   <li>{@link #computeGradient} followed by {@link #applyUpdate} with the local batch size is one DL4J
 *       {@code fit(DataSet)} iteration; with an all-reduce of {@link #gradient()} in between it is one synchronous
 *       data-parallel step on the global batch.</li>
 * </ul>
 *
 * <p>An engine is used by one thread at a time. {@link #close()} frees what it holds (device memory, pinned host
 * buffers, streams); it is idempotent.
 */
public interface TrainingEngine extends AutoCloseable {

    /** The backend's name ({@code cpu}, {@code cuda}, ...). */
    String backendName();

    /** Where it computes, for logs and reports (e.g. {@code "CPU, 16 threads"}, {@code "cuda:0 NVIDIA H100"}). */
    String device();

    /** Number of parameters (length of the flat parameter and gradient vectors). */
    long numParams();

    /**
     * Forward and backward on a training batch. On return {@link #gradient()} holds the gradient summed over the
     * batch's examples (the updater divides by the global batch size), in DL4J's flat layout.
     *
     * @return the batch's mean loss (DL4J's score, regularization included)
     */
    double computeGradient(HostBatch batch);

    /**
     * {@link #computeGradient(HostBatch)} that also says, while the backward pass runs, which part of the gradient is
     * already final, so that a {@link SyncStep} can all-reduce those buckets while the rest of the backward runs.
     * {@code readyFrom.accept(k)} (on the calling thread) promises that the host gradient elements {@code [k,
     * numParams())} of {@link #gradient()} hold their final values and will not be written again before
     * {@link #applyUpdate}; calls may come in any order (the smallest {@code k} so far counts) and need not come at
     * all. On return the whole gradient is final, as for {@link #computeGradient(HostBatch)}.
     *
     * <p>The default reports nothing early (the whole gradient becomes one bucket after the backward pass). An engine
     * can do better when its parameters are laid out, as DL4J lays them out, in forward order, so that the backward
     * pass finishes the gradient from the end: the CPU engine reports after every layer's backward; a GPU engine
     * would report once a layer's gradient has been copied to host memory (its own stream, ordered by an event after
     * the layer's backward kernels).
     */
    default double computeGradient(HostBatch batch, java.util.function.LongConsumer readyFrom) {
        return computeGradient(batch);
    }

    /**
     * The flat gradient in host memory, valid from {@link #computeGradient} until {@link #applyUpdate}. A collective
     * may reduce into it in place: {@link #applyUpdate} uses what the buffer then holds. Position 0, limit
     * {@link #numParams()}.
     */
    FloatBuffer gradient();

    /**
     * Flat index ranges {@code [start, end)} whose "gradient" is a state update that DL4J does not divide by the batch
     * size (batch-norm running statistics); data-parallel training averages these weighted by shard size.
     */
    long[][] nonAveragedRanges();

    /**
     * Applies the updater (learning rate and schedules, momentum, Adam moments, regularization, gradient
     * normalization) to the gradient buffer divided by {@code globalBatchSize}, subtracts the update from the
     * parameters and advances the iteration counter.
     */
    void applyUpdate(int globalBatchSize, int epoch);

    /**
     * {@link #applyUpdate} when nothing has changed {@link #gradient()} since {@link #computeGradient} (a job of one
     * worker: no collective ran), with the same result. An engine that keeps the gradient it computed (on its device)
     * may update from that copy instead of reading the host buffer back. The default calls {@link #applyUpdate}.
     */
    default void applyLocalUpdate(int globalBatchSize, int epoch) {
        applyUpdate(globalBatchSize, epoch);
    }

    /** Sets the epoch counter (learning-rate schedules). */
    void setEpoch(int epoch);

    /** Copies the flat parameters into {@code dst} (from its position; {@link #numParams()} values). */
    void readParams(FloatBuffer dst);

    /** Replaces the flat parameters with {@link #numParams()} values of {@code src} (from its position). */
    void writeParams(FloatBuffer src);

    /** Length of the flat updater state (0 when the updater has none, e.g. plain SGD). */
    long updaterStateLength();

    /** Copies the flat updater state into {@code dst} (from its position). */
    void readUpdaterState(FloatBuffer dst);

    /** Replaces the flat updater state with {@link #updaterStateLength()} values of {@code src}. */
    void writeUpdaterState(FloatBuffer src);

    /** CRC32 of the raw bits of the flat parameters: equal on two replicas iff they are bitwise equal (w.h.p.). */
    long checksum();

    /** Inference-mode outputs {@code [rows, numOutputs]}, row-major, for the features of {@code batch}. */
    float[] output(HostBatch batch);

    /** Precision switching and per-layer timing for device profiling, if this engine supports it. */
    default java.util.Optional<ProfilingSupport> profiling() {
        return java.util.Optional.empty();
    }

    /** The trained network as a DL4J model on the CPU (configuration, parameters, updater state, iteration count). */
    Model exportModel();

    /** Frees what the engine holds. */
    @Override
    void close();
}
