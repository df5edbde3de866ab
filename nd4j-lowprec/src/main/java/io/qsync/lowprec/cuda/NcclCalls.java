package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.nccl.NCCL_API_MAGIC;
import static org.bytedeco.cuda.global.nccl.NCCL_VERSION_CODE;
import static org.bytedeco.cuda.global.nccl.ncclCommFinalize;
import static org.bytedeco.cuda.global.nccl.ncclCommGetAsyncError;
import static org.bytedeco.cuda.global.nccl.ncclGetErrorString;
import static org.bytedeco.cuda.global.nccl.ncclInProgress;
import static org.bytedeco.cuda.global.nccl.ncclSuccess;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclConfig_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;

/** Status checks, the non-blocking config, argument checks and the polling pace of {@link NcclGroup}. */
final class NcclCalls {
    private static final int CONFIG_UNDEF_INT = Integer.MIN_VALUE; // NCCL_CONFIG_UNDEF_INT
    private static final long SPIN_NANOS = 2_000_000L;
    private static final long PARK_NANOS = 50_000L;

    private NcclCalls() {}

    /**
     * NCCL_CONFIG_INITIALIZER (a macro the presets cannot map: every optional field "undefined") with
     * {@code blocking = 0}, so that set-up and collectives return at once and the caller polls with a deadline.
     */
    static ncclConfig_t nonBlockingConfig() {
        ncclConfig_t c = new ncclConfig_t();
        c.size(Loader.sizeof(ncclConfig_t.class)).magic(NCCL_API_MAGIC).version(NCCL_VERSION_CODE);
        c.blocking(0).cgaClusterSize(CONFIG_UNDEF_INT).minCTAs(CONFIG_UNDEF_INT).maxCTAs(CONFIG_UNDEF_INT);
        c.splitShare(CONFIG_UNDEF_INT).trafficClass(CONFIG_UNDEF_INT).collnetEnable(CONFIG_UNDEF_INT);
        c.CTAPolicy(CONFIG_UNDEF_INT).shrinkShare(CONFIG_UNDEF_INT).nvlsCTAs(CONFIG_UNDEF_INT);
        c.nChannelsPerNetPeer(CONFIG_UNDEF_INT).nvlinkCentricSched(CONFIG_UNDEF_INT);
        c.graphUsageMode(CONFIG_UNDEF_INT).numRmaCtx(CONFIG_UNDEF_INT);
        c.netName(null).commName(null); // NCCL_CONFIG_UNDEF_PTR
        return c;
    }

    /** Argument checks of {@link NcclGroup#join}, before any native call. */
    static void checkJoin(int deviceOrdinal, byte[] id, int rank, int size, Duration timeout) {
        Objects.requireNonNull(id, "id");
        if (id.length != NcclGroup.ID_BYTES) {
            throw new IllegalArgumentException(
                    "an NCCL unique id has " + NcclGroup.ID_BYTES + " bytes, got " + id.length);
        }
        if (size < 1 || rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " of " + size + ": need 0 <= rank < size");
        }
        if (deviceOrdinal < 0) {
            throw new IllegalArgumentException("device ordinal must be >= 0, got " + deviceOrdinal);
        }
        checkTimeout(timeout);
    }

    static Duration checkTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return timeout;
    }

    static int checkRoot(int root, int size) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("root " + root + " is not a rank of 0.." + (size - 1));
        }
        return root;
    }

    /**
     * Finalizes {@code comm} (non-blocking: polled) within {@code limit}.
     *
     * @return true when it finished cleanly (then destroy it), false when it must be aborted
     */
    static boolean finalizeWithin(ncclComm comm, Duration limit) {
        int rc = ncclCommFinalize(comm);
        long start = System.nanoTime();
        int[] state = new int[1];
        while (rc == ncclSuccess || rc == ncclInProgress) {
            if (ncclCommGetAsyncError(comm, state) != ncclSuccess) {
                return false;
            } else if (state[0] == ncclSuccess) {
                return true;
            } else if (state[0] != ncclInProgress || System.nanoTime() - start > limit.toNanos()) {
                return false;
            }
            pause(start);
        }
        return false;
    }

    /** One step of a wait: spins for its first 2 ms (a collective of a few MiB takes less), then parks 50 us. */
    static void pause(long startNanos) {
        if (System.nanoTime() - startNanos < SPIN_NANOS) {
            Thread.onSpinWait();
        } else {
            LockSupport.parkNanos(PARK_NANOS);
        }
    }

    static void check(String call, int rc) {
        if (rc != ncclSuccess) {
            throw new NcclException(NcclException.Kind.FAILED, call + " failed: " + error(rc));
        }
    }

    static String error(int rc) {
        BytePointer s = ncclGetErrorString(rc);
        return (s == null || s.isNull() ? "ncclResult" : s.getString()) + " (" + rc + ")";
    }

    static String cudaError(int rc) {
        BytePointer s = cudaGetErrorString(rc);
        return (s == null || s.isNull() ? "cudaError" : s.getString()) + " (" + rc + ")";
    }
}
