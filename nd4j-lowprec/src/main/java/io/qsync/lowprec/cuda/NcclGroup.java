package io.qsync.lowprec.cuda;

import static io.qsync.lowprec.cuda.NcclCalls.checkRoot;
import static io.qsync.lowprec.cuda.NcclCalls.checkTimeout;
import static io.qsync.lowprec.cuda.NcclCalls.error;
import static io.qsync.lowprec.cuda.NcclCalls.pause;
import static org.bytedeco.cuda.global.cudart.cudaErrorNotReady;
import static org.bytedeco.cuda.global.cudart.cudaGetDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamQuery;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;
import static org.bytedeco.cuda.global.nccl.*;

import java.time.Duration;
import java.util.Objects;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclConfig_t;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.Pointer;

/**
 * One rank of an NCCL communicator on one CUDA device, with its own stream. Set-up and every collective are bounded
 * by a deadline: the communicator is non-blocking ({@code ncclConfig_t.blocking = 0}) and the calling thread polls
 * {@code ncclCommGetAsyncError} (set-up) or {@code cudaStreamQuery} plus {@code ncclCommGetAsyncError} (collectives)
 * until done, the deadline passes, NCCL reports an error or {@link #abort(String)} is called; the last three abort
 * the communicator ({@code ncclCommAbort}, which also stops its kernels) and throw an {@link NcclException} naming the
 * operation, rank and size. Collectives are in place (send buffer = receive buffer) on float32 device memory.
 *
 * <p>NCCL communicators are not thread-safe: collectives and {@link #close()} are serialized on this object, and
 * {@link #abort(String)} (from any thread) only flags the group; the thread waiting in a collective then aborts the
 * communicator itself within a millisecond. Before the first NCCL call of the process {@code NCCL_NVLS_ENABLE=0} is
 * put into the native environment ({@link NcclEnvironment}: the GPU machines require NVLink multicast off).
 *
 * <p>NCCL sends no abort notice between ranks, so a rank that aborts or fails leaves one on an {@link AbortBoard}
 * (a file under {@code /dev/shm} named after the unique id): the other ranks, waiting or entering a call, fail within
 * 20 ms with its reason instead of at their own deadline. A dead process leaves none: its peers time out (or, in
 * Spark, are interrupted when the barrier stage's tasks are killed; an interrupt fails a waiting call at once).
 */
public final class NcclGroup implements AutoCloseable {
    /** Size of an NCCL unique id in bytes. */
    public static final int ID_BYTES = 128;

    private static final Duration CLOSE_LIMIT = Duration.ofSeconds(10);

    private final ncclComm comm;
    private final int device;
    private final int rank;
    private final int size;
    private final CudaStream stream;
    private final AbortBoard board;
    private volatile String abortReason;
    private long lastLook;
    private volatile boolean closing;
    /** The communicator was aborted (after a failure) or destroyed: no NCCL call may use it any more. */
    private boolean released;

    private boolean streamClosed;

    private NcclGroup(ncclComm comm, int device, int rank, int size, CudaStream stream, AbortBoard board) {
        this.board = board;
        this.comm = comm;
        this.device = device;
        this.rank = rank;
        this.size = size;
        this.stream = stream;
    }

    /** @return a fresh unique id (its creator's process hosts NCCL's bootstrap root until the group forms) */
    public static byte[] uniqueId() {
        NcclEnvironment.prepare();
        try (ncclUniqueId id = new ncclUniqueId()) {
            NcclCalls.check("ncclGetUniqueId", ncclGetUniqueId(id));
            byte[] out = new byte[ID_BYTES];
            for (int i = 0; i < ID_BYTES; i++) {
                out[i] = id.internal(i);
            }
            return out;
        }
    }

    /**
     * Joins the communicator {@code id} as {@code rank} of {@code size} on device {@code deviceOrdinal}; returns once
     * every rank has joined.
     *
     * @throws NcclException of kind TIMEOUT if the group has not formed within {@code timeout} (other ranks may have
     *                       failed to start), FAILED if NCCL refused, ABORTED if the thread was interrupted
     */
    public static NcclGroup join(int deviceOrdinal, byte[] id, int rank, int size, Duration timeout) {
        NcclCalls.checkJoin(deviceOrdinal, id, rank, size, timeout);
        NcclEnvironment.prepare();
        String what = "joining an NCCL communicator as rank " + rank + " of " + size + " on device " + deviceOrdinal;
        Check.cuda("cudaSetDevice(" + deviceOrdinal + ")", cudaSetDevice(deviceOrdinal));
        GreenContext.reapply();
        AbortBoard board = AbortBoard.of(id, rank);
        CudaStream stream = new CudaStream();
        ncclComm comm = new ncclComm();
        try (ncclUniqueId uid = new ncclUniqueId();
                ncclConfig_t config = NcclCalls.nonBlockingConfig()) {
            for (int i = 0; i < ID_BYTES; i++) {
                uid.internal(i, id[i]);
            }
            int rc = ncclCommInitRankConfig(comm, size, uid, rank, config);
            if (rc != ncclSuccess && rc != ncclInProgress) {
                throw new NcclException(NcclException.Kind.FAILED, what + " failed: " + error(rc));
            }
            long start = System.nanoTime();
            long lastLook = start;
            int[] state = new int[1];
            while (true) {
                NcclCalls.check(what + ": ncclCommGetAsyncError", ncclCommGetAsyncError(comm, state));
                if (state[0] == ncclSuccess) {
                    return new NcclGroup(comm, deviceOrdinal, rank, size, stream, board);
                } else if (state[0] != ncclInProgress) {
                    throw new NcclException(NcclException.Kind.FAILED, what + " failed: " + error(state[0]));
                } else if (Thread.currentThread().isInterrupted()) {
                    throw new NcclException(NcclException.Kind.ABORTED, what + " stopped: the thread was interrupted");
                }
                if (System.nanoTime() - lastLook > AbortBoard.LOOK_NANOS) {
                    lastLook = System.nanoTime();
                    String notice = board.peerNotice();
                    if (notice != null) {
                        throw new NcclException(NcclException.Kind.PEER_ABORTED, what + " stopped: " + notice);
                    }
                }
                if (System.nanoTime() - start > timeout.toNanos()) {
                    throw new NcclException(
                            NcclException.Kind.TIMEOUT,
                            what + " timed out after " + timeout + ": not every rank joined (another rank may have"
                                    + " failed to start, or was given another id)");
                }
                pause(start);
            }
        } catch (RuntimeException | Error e) {
            board.post("rank " + rank + " failed to join: " + e.getMessage());
            if (!comm.isNull()) {
                ncclCommAbort(comm);
            }
            stream.close();
            throw e;
        }
    }

    /** @return this rank */
    public int rank() {
        return rank;
    }

    /** @return number of ranks */
    public int size() {
        return size;
    }

    /** @return the CUDA device this rank runs on */
    public int deviceOrdinal() {
        return device;
    }

    /** @return the stream collectives run on (enqueue copies on it to order them with the collectives) */
    public CudaStream stream() {
        return stream;
    }

    /** In-place sum over all ranks of {@code t}'s floats; waits at most {@code timeout}. */
    public void allReduceSum(CudaTensor t, Duration timeout) {
        allReduceSum(t.buffer().pointer(), t.length(), timeout);
    }

    /** In-place sum over all ranks of {@code count} floats at device address {@code buf}; waits at most timeout. */
    public synchronized void allReduceSum(Pointer buf, long count, Duration timeout) {
        enqueueAllReduceSum(buf, count, timeout);
        await("allReduce(" + count + " floats)", timeout);
    }

    /**
     * Enqueues an in-place all-reduce (sum) on {@link #stream()} and returns without waiting for it ({@link #await}
     * does); {@code timeout} bounds only the enqueueing.
     */
    public synchronized void enqueueAllReduceSum(Pointer buf, long count, Duration timeout) {
        String what = "allReduce(" + count + " floats)";
        begin(what, buf, count);
        enqueued(what, ncclAllReduce(buf, buf, count, ncclFloat32, ncclSum, comm, stream.handle()), timeout);
    }

    /** In-place sum of {@code t} over all ranks into rank {@code root}'s {@code t}; waits at most timeout. */
    public void reduceSum(CudaTensor t, int root, Duration timeout) {
        reduceSum(t.buffer().pointer(), t.length(), root, timeout);
    }

    /** In-place sum of {@code count} floats over all ranks into rank {@code root}'s buffer; waits at most timeout. */
    public synchronized void reduceSum(Pointer buf, long count, int root, Duration timeout) {
        String what = "reduce(" + count + " floats to rank " + checkRoot(root, size) + ")";
        begin(what, buf, count);
        enqueued(what, ncclReduce(buf, buf, count, ncclFloat32, ncclSum, root, comm, stream.handle()), timeout);
        await(what, timeout);
    }

    /** Copies rank {@code root}'s {@code t} into every rank's {@code t}; waits at most timeout. */
    public void broadcast(CudaTensor t, int root, Duration timeout) {
        broadcast(t.buffer().pointer(), t.length(), root, timeout);
    }

    /** Copies {@code count} floats of rank {@code root}'s buffer into every rank's; waits at most timeout. */
    public synchronized void broadcast(Pointer buf, long count, int root, Duration timeout) {
        String what = "broadcast(" + count + " floats from rank " + checkRoot(root, size) + ")";
        begin(what, buf, count);
        enqueued(what, ncclBroadcast(buf, buf, count, ncclFloat32, root, comm, stream.handle()), timeout);
        await(what, timeout);
    }

    /**
     * Gathers {@code bytesPerRank} bytes at device address {@code send} of every rank into {@code recv} (rank
     * {@code r}'s bytes at offset {@code r * bytesPerRank}; {@code recv} holds {@code size * bytesPerRank} bytes).
     */
    public synchronized void allGatherBytes(Pointer send, Pointer recv, long bytesPerRank, Duration timeout) {
        String what = "allGather(" + bytesPerRank + " bytes per rank)";
        begin(what, Objects.requireNonNull(recv, "recv"), bytesPerRank);
        begin(what, send, bytesPerRank);
        enqueued(what, ncclAllGather(send, recv, bytesPerRank, ncclUint8, comm, stream.handle()), timeout);
        await(what, timeout);
    }

    /**
     * Waits until everything enqueued on {@link #stream()} has finished and NCCL has no operation in progress, at most
     * {@code timeout}.
     *
     * @throws NcclException on timeout, an NCCL or CUDA error, or {@link #abort}: the communicator is then aborted
     */
    public synchronized void await(String what, Duration timeout) {
        checkTimeout(timeout);
        checkLive(what, false);
        makeCurrent();
        long start = System.nanoTime();
        int[] state = new int[1];
        while (true) {
            int q = cudaStreamQuery(stream.handle());
            int rc = ncclCommGetAsyncError(comm, state);
            if (rc != ncclSuccess || (state[0] != ncclSuccess && state[0] != ncclInProgress)) {
                fail(NcclException.Kind.FAILED, what + " failed: " + error(rc != ncclSuccess ? rc : state[0]));
            } else if (q == cudaSuccess && state[0] == ncclSuccess) {
                return;
            } else if (q != cudaSuccess && q != cudaErrorNotReady) {
                fail(NcclException.Kind.FAILED, what + " failed on the stream: " + NcclCalls.cudaError(q));
            }
            checkLive(what, false);
            if (System.nanoTime() - start > timeout.toNanos()) {
                fail(
                        NcclException.Kind.TIMEOUT,
                        what + " did not finish within " + timeout + " (a peer rank is stalled, failed or never"
                                + " called it)");
            }
            pause(start);
        }
    }

    /**
     * Aborts this rank: a call waiting in this group (or made later) fails promptly with an {@link NcclException}
     * carrying {@code reason}. Safe from any thread; the first reason wins.
     */
    public void abort(String reason) {
        if (abortReason == null) {
            abortReason = String.valueOf(reason);
            board.post(abortReason);
        }
    }

    /**
     * Finalizes and destroys the communicator (aborts it instead after a failure, an {@link #abort} here or by a peer,
     * or when finalizing takes longer than 10 s) and frees the stream. A call waiting on another thread fails first. Idempotent; never
     * throws.
     */
    @Override
    public void close() {
        closing = true;
        synchronized (this) {
            if (streamClosed) {
                return;
            }
            try {
                if (!released) {
                    released = true;
                    try {
                        makeCurrent();
                    } catch (RuntimeException e) {
                        // NCCL sets the communicator's device itself; finalize or abort anyway
                    }
                    if (abortReason == null
                            && board.peerNotice() == null
                            && NcclCalls.finalizeWithin(comm, CLOSE_LIMIT)) {
                        ncclCommDestroy(comm);
                    } else {
                        ncclCommAbort(comm);
                    }
                }
            } catch (RuntimeException e) {
                // closing: the device may be gone after an error
            } finally {
                board.leave();
                closeStream();
            }
        }
    }

    private void closeStream() {
        if (!streamClosed) {
            streamClosed = true;
            try {
                stream.close();
            } catch (RuntimeException ignored) {
                // the context may be unusable after a device error
            }
        }
    }

    @Override
    public String toString() {
        return "NcclGroup[rank " + rank + " of " + size + " on device " + device + "]";
    }

    /** Checks the state and arguments before an NCCL call and makes the device current. */
    private void begin(String what, Pointer buf, long count) {
        Objects.requireNonNull(buf, "buf");
        if (count < 0) {
            throw new IllegalArgumentException(what + ": count must be >= 0");
        }
        checkLive(what, true);
        makeCurrent();
    }

    /**
     * A collective call returned: in non-blocking mode it may still be enqueueing ({@code ncclInProgress}); NCCL
     * wants no other call on the communicator until {@code ncclCommGetAsyncError} says it is done.
     */
    private void enqueued(String what, int rc, Duration timeout) {
        if (rc != ncclSuccess && rc != ncclInProgress) {
            fail(NcclException.Kind.FAILED, what + " failed: " + error(rc));
        }
        long start = System.nanoTime();
        int[] state = {rc};
        while (state[0] == ncclInProgress) {
            checkLive(what, false);
            if (System.nanoTime() - start > checkTimeout(timeout).toNanos()) {
                fail(NcclException.Kind.TIMEOUT, what + " was not enqueued within " + timeout);
            }
            pause(start);
            int r = ncclCommGetAsyncError(comm, state);
            if (r != ncclSuccess || (state[0] != ncclSuccess && state[0] != ncclInProgress)) {
                fail(NcclException.Kind.FAILED, what + " failed: " + error(r != ncclSuccess ? r : state[0]));
            }
        }
    }

    /** Makes this group's device current for the calling thread (keeps an installed SM slice when already there). */
    void makeCurrent() {
        int[] d = new int[1];
        if (cudaGetDevice(d) != cudaSuccess || d[0] != device) {
            Check.cuda("cudaSetDevice(" + device + ")", cudaSetDevice(device));
            GreenContext.reapply();
        }
    }

    private void checkLive(String what, boolean lookNow) {
        if (released) {
            throw new NcclException(
                    NcclException.Kind.ABORTED, what + " at " + this + ": the group was aborted or closed before");
        }
        String reason = abortReason;
        if (reason != null) {
            fail(NcclException.Kind.ABORTED, what + " aborted: " + reason);
        } else if (closing) {
            fail(NcclException.Kind.ABORTED, what + " stopped: the group is being closed");
        } else if (Thread.currentThread().isInterrupted()) {
            fail(NcclException.Kind.ABORTED, what + " stopped: the thread was interrupted");
        } else if (lookNow || System.nanoTime() - lastLook > AbortBoard.LOOK_NANOS) {
            lastLook = System.nanoTime();
            String notice = board.peerNotice();
            if (notice != null) {
                fail(NcclException.Kind.PEER_ABORTED, what + " stopped: " + notice);
            }
        }
    }

    /** Aborts the communicator (kernels waiting for peers return) and throws. */
    private void fail(NcclException.Kind kind, String message) {
        String full = "rank " + rank + " of " + size + " (device " + device + "): " + message;
        if (!released) {
            released = true;
            board.post(full);
            ncclCommAbort(comm);
        }
        throw new NcclException(kind, full);
    }
}
