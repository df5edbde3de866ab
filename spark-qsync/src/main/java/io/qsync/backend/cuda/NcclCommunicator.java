package io.qsync.backend.cuda;

import io.qsync.comm.CommConfig;
import io.qsync.comm.CommException;
import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import io.qsync.lowprec.cuda.CudaException;
import io.qsync.lowprec.cuda.NcclException;
import io.qsync.lowprec.cuda.NcclGroup;
import io.qsync.lowprec.cuda.NcclHostCollectives;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@link Communicator} over NCCL for the CUDA workers of one host: host buffers are staged through page-locked memory
 * to the worker's device, reduced there by NCCL (NVLink or PCIe between the GPUs) and copied back
 * ({@link NcclHostCollectives}); all-gather and barrier run through NCCL too. Joining is bounded by
 * {@value CommConfig#CONNECT_TIMEOUT_KEY}, every collective by {@value CommConfig#IO_TIMEOUT_KEY}; a timeout, an NCCL
 * error or {@link #abort(String)} aborts the NCCL communicator ({@code ncclCommAbort}) and throws a
 * {@link CommException} naming the operation, the rank and the setting to change.
 */
public final class NcclCommunicator implements Communicator {
    private final NcclHostCollectives collectives;
    private final CommConfig config;
    private long seq;
    private volatile String abortReason;

    private NcclCommunicator(NcclHostCollectives collectives, CommConfig config) {
        this.collectives = collectives;
        this.config = config;
    }

    /**
     * Joins the host collective {@code id} (from {@link NcclGroup#uniqueId()}) as {@code rank} of {@code size} on
     * device {@code deviceOrdinal}.
     *
     * @throws CommException if the group does not form within the connect timeout, or NCCL fails
     */
    public static NcclCommunicator join(byte[] id, int rank, int size, int deviceOrdinal, CommConfig config) {
        Objects.requireNonNull(config, "config");
        Duration t = config.connectTimeout();
        try {
            NcclGroup group = NcclGroup.join(deviceOrdinal, id, rank, size, t);
            return new NcclCommunicator(new NcclHostCollectives(group, false), config);
        } catch (NcclException | CudaException e) {
            throw new CommException(
                    "rank " + rank + " of " + size + " failed to join the NCCL host collective on device "
                            + deviceOrdinal + ": " + e.getMessage()
                            + (e instanceof NcclException n && n.kind() == NcclException.Kind.TIMEOUT
                                    ? "; raise " + CommConfig.CONNECT_TIMEOUT_KEY + " (now " + t + ") if the host's"
                                            + " workers start slowly"
                                    : ""),
                    e);
        }
    }

    @Override
    public int rank() {
        return collectives.group().rank();
    }

    @Override
    public int size() {
        return collectives.group().size();
    }

    @Override
    public void allReduce(FloatBuffer buf, ReduceOp op) {
        allReduce(new FloatBuffer[] {Objects.requireNonNull(buf, "buf")}, op);
    }

    /** One all-reduce of the parts laid end to end, staged through one page-locked buffer. */
    @Override
    public void allReduce(FloatBuffer[] parts, ReduceOp op) {
        Objects.requireNonNull(parts, "parts");
        Objects.requireNonNull(op, "op");
        float scale = op == ReduceOp.AVERAGE ? 1.0f / size() : 1.0f;
        call("allReduce", () -> {
            collectives.allReduce(parts, scale, config.ioTimeout());
            return null;
        });
    }

    /** One NCCL broadcast of the parts laid end to end (the default would all-reduce them with zeros). */
    @Override
    public void broadcast(FloatBuffer[] parts, int root) {
        Objects.requireNonNull(parts, "parts");
        if (root < 0 || root >= size()) {
            throw new IllegalArgumentException("broadcast root " + root + " is outside 0.." + (size() - 1));
        }
        call("broadcast", () -> {
            collectives.broadcast(parts, root, config.ioTimeout());
            return null;
        });
    }

    @Override
    public byte[][] allGather(byte[] mine) {
        Objects.requireNonNull(mine, "mine");
        return call("allGather", () -> collectives.allGather(mine, config.ioTimeout()));
    }

    @Override
    public void barrier() {
        call("barrier", () -> {
            collectives.barrier(config.ioTimeout());
            return null;
        });
    }

    /** Runs one collective and turns NCCL's failures into {@link CommException}s naming the setting to change. */
    private <T> T call(String name, Supplier<T> op) {
        long s = ++seq;
        String what = name + " #" + s;
        String reason = abortReason;
        if (reason != null) {
            throw new CommException(
                    what + " failed at rank " + rank() + " of " + size() + ": communicator aborted: " + reason);
        }
        try {
            return op.get();
        } catch (NcclException e) {
            String hint = e.kind() == NcclException.Kind.TIMEOUT
                    ? "; raise " + CommConfig.IO_TIMEOUT_KEY + " (now " + config.ioTimeout()
                            + ") if workers' compute times differ by more"
                    : "";
            throw new CommException(
                    what + " over NCCL failed: " + e.getMessage() + hint,
                    e,
                    e.kind() == NcclException.Kind.PEER_ABORTED);
        } catch (RuntimeException e) { // a CUDA error, a bad length: the peers cannot go on without this rank
            collectives.group().abort(e.getMessage());
            throw new CommException(what + " over NCCL failed at rank " + rank() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void abort(String reason) {
        String r = "rank " + rank() + " aborted: " + reason;
        if (abortReason == null) {
            abortReason = r;
        }
        collectives.group().abort(r);
    }

    @Override
    public void close() {
        collectives.close();
    }

    @Override
    public String toString() {
        return "NcclCommunicator[rank " + rank() + " of " + size() + " on device "
                + collectives.group().deviceOrdinal() + "]";
    }
}
