package io.qsync.runtime;

import java.util.List;
import java.util.Optional;

/**
 * A way to train: opens {@link TrainingEngine}s on this process' devices. Backends are found by name through
 * {@link java.util.ServiceLoader} (a {@code META-INF/services/io.qsync.runtime.TrainingBackend} entry), as DJL finds
 * its engines; {@link Backends} picks one for the {@code spark.qsync.backend} setting.
 */
public interface TrainingBackend {

    /** The name users select it by ({@code spark.qsync.backend}): lower case, e.g. {@code cpu}, {@code cuda}. */
    String name();

    /** Preference for {@code spark.qsync.backend=auto}: among usable backends, the highest wins. */
    int priority();

    /** Empty when this process can use the backend; otherwise why not (no device, missing library, ...). */
    Optional<String> unavailableReason();

    /**
     * Everything of {@code request}'s network or plan this backend cannot train, one line each (layer name and what is
     * unsupported); empty when it can train all of it. Checked before any device memory is taken.
     */
    List<String> unsupported(EngineRequest request);

    /**
     * Opens an engine holding the request's network (parameters, updater state and iteration count as the model spec
     * has them) with the request's precision plan applied.
     *
     * @throws UnsupportedModelException if {@link #unsupported} is not empty
     * @throws IllegalStateException     if the backend is unavailable or the device runs out of memory (the message
     *                                   names the batch size and plan to change)
     */
    TrainingEngine open(EngineRequest request);

    /**
     * The device a worker of this backend joins a host collective with ({@link #newHostCollectiveId}), distinct for
     * every worker of a host that can join one; -1 when this worker cannot (the backend has no host collective, or
     * the worker is not on a device that has one).
     *
     * @param deviceKind the worker's device kind ({@code gpu} or {@code cpu})
     * @param ordinal    its GPU ordinal in this process, or -1
     */
    default int hostCollectiveDevice(String deviceKind, int ordinal) {
        return -1;
    }

    /**
     * A fresh id for a collective among the workers of one host that this worker will lead (NCCL's unique id for
     * CUDA workers), or empty when this backend has no such collective (then the TCP ring serves every worker).
     * Called on one worker per host; the id travels to the host's other workers through the barrier stage.
     */
    default Optional<byte[]> newHostCollectiveId() {
        return Optional.empty();
    }

    /**
     * Joins the host collective {@code id} (from {@link #newHostCollectiveId} on the host's first worker) as
     * {@code localRank} of {@code localSize} workers, on this worker's device {@code deviceOrdinal}. Every call, the
     * joining too, is bounded by {@code config}'s timeouts; {@link io.qsync.comm.Communicator#abort} wakes it.
     *
     * @throws UnsupportedOperationException if {@link #newHostCollectiveId} is empty for this backend
     * @throws io.qsync.comm.CommException  if the collective cannot be joined in time
     */
    default io.qsync.comm.Communicator joinHostCollective(
            byte[] id, int localRank, int localSize, int deviceOrdinal, io.qsync.comm.CommConfig config) {
        throw new UnsupportedOperationException(name() + " has no host collective");
    }
}
