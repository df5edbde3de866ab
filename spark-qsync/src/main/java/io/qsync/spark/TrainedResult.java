package io.qsync.spark;

import io.qsync.runtime.TrainingHistory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * What each barrier task returns to the driver (through a shuffle): its rank and the checksum of its final
 * parameters and its training history, and on rank 0 also the trained model as a DL4J model zip. Travels as plain
 * bytes so it does not depend on the configured Spark serializer.
 *
 * @param rank     the worker's rank
 * @param checksum CRC32 of the worker's final parameters (equal on all workers)
 * @param modelZip the trained model ({@code ModelSerializer} format, updater state included); null except rank 0
 * @param graph    whether the model is a ComputationGraph
 * @param history  the worker's training history (its epochs' phases feed {@code measured.json}); null on a failure
 * @param failure  null, or why this worker stopped without throwing: a deterministic failure (bad input or settings,
 *                 diverged loss) that a retry of the barrier stage would only repeat
 * @param relayed  the failure was reported by a peer over the ring, not raised on this worker
 */
public record TrainedResult(
        int rank,
        long checksum,
        byte[] modelZip,
        boolean graph,
        TrainingHistory history,
        String failure,
        boolean relayed)
        implements Serializable {

    /** A successful worker's result. */
    public TrainedResult(int rank, long checksum, byte[] modelZip, boolean graph, TrainingHistory history) {
        this(rank, checksum, modelZip, graph, history, null, false);
    }

    /** A worker that stopped on a deterministic failure (its own, or relayed by a peer). */
    public static TrainedResult failed(int rank, String failure, boolean relayed) {
        return new TrainedResult(rank, 0L, null, false, null, failure, relayed);
    }

    /** Encodes to bytes. */
    public byte[] toBytes() {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(bos)) {
            oos.writeObject(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    /** Decodes bytes written by {@link #toBytes()}. */
    public static TrainedResult fromBytes(byte[] bytes) {
        try (ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return (TrainedResult) ois.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot decode the training result", e);
        }
    }
}
