package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventRecordExternal;
import static org.bytedeco.cuda.global.cudart.cudaEventRecordWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaStreamWaitEvent;

import io.qsync.lowprec.train.TensorOps;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Device-to-host copies that run behind the compute stream on a copy stream of their own
 * ({@link TensorOps#downloadBehind}): an event on the compute stream orders each copy after the work queued before
 * it, an event on the copy stream tells the host when it landed, and {@link #join} makes the compute stream wait for
 * all of them. Inside a stream capture the same calls become graph nodes (the host-visible events as external event
 * records, re-armed by every launch); their events then belong to the recording and are freed with it.
 */
final class BehindCopies implements AutoCloseable {
    private final CudaStream compute;
    private CudaStream copies;
    private final ArrayDeque<CUevent_st> free = new ArrayDeque<>();
    private final List<CUevent_st> all = new ArrayList<>();
    private List<CUevent_st> recording;
    private boolean pending;

    BehindCopies(CudaStream compute) {
        this.compute = compute;
    }

    /** From now until {@link #endRecording}, events are kept for the recording (not recycled). */
    void beginRecording() {
        recording = new ArrayList<>();
    }

    /** @return the events the recording uses; destroy them with {@link #destroy} when the recording is freed */
    List<CUevent_st> endRecording() {
        List<CUevent_st> r = recording;
        recording = null;
        return r == null ? List.of() : r;
    }

    TensorOps.Mark copy(CudaTensor src, FloatBuffer dst) {
        return copy(src, dst, true);
    }

    /**
     * As {@link #copy(CudaTensor, FloatBuffer)}, or with {@code behind = false} on the compute stream itself: the copy
     * then waits for the work queued before it and holds up the work after it (no overlap), but stays asynchronous to
     * the host and recordable, with the same host-visible mark.
     */
    TensorOps.Mark copy(CudaTensor src, FloatBuffer dst, boolean behind) {
        long n = src.length();
        if (!dst.isDirect() || dst.remaining() < n) {
            throw new IllegalArgumentException("downloadBehind needs a page-locked host buffer (hostBuffer) with " + n
                    + " floats left; it has " + dst.remaining() + (dst.isDirect() ? "" : " and is on the heap"));
        }
        CudaStream on = compute;
        if (behind) {
            if (copies == null) {
                copies = new CudaStream();
            }
            on = copies;
            CUevent_st fork = event();
            Check.cuda("cudaEventRecord(copy fork)", cudaEventRecord(fork, compute.handle()));
            Check.cuda("cudaStreamWaitEvent(copy stream)", cudaStreamWaitEvent(copies.handle(), fork, 0));
            if (recording == null) {
                free.add(fork); // the wait took the fork's state when it was queued
            }
        }
        Check.cuda(
                "cudaMemcpyAsync(D2H " + (behind ? "behind " : "in stream ")
                        + src.buffer().name() + ", " + n * 4 + " bytes)",
                cudaMemcpyAsync(
                        new FloatPointer(dst.slice()),
                        src.buffer().pointer(),
                        n * 4,
                        cudaMemcpyDeviceToHost,
                        on.handle()));
        CUevent_st done = event();
        Check.cuda(
                "cudaEventRecord(copy done)",
                recording != null
                        ? cudaEventRecordWithFlags(done, on.handle(), cudaEventRecordExternal)
                        : cudaEventRecord(done, on.handle()));
        pending |= behind;
        if (recording != null) {
            return () -> Check.cuda("cudaEventSynchronize(copy behind the pass)", cudaEventSynchronize(done));
        }
        return new EventMark(done, "copy behind the pass", free::add);
    }

    /** Queues on the compute stream a wait for every copy started so far. */
    void join() {
        if (!pending) {
            return;
        }
        pending = false;
        CUevent_st j = event();
        Check.cuda("cudaEventRecord(copy join)", cudaEventRecord(j, copies.handle()));
        Check.cuda("cudaStreamWaitEvent(compute stream)", cudaStreamWaitEvent(compute.handle(), j, 0));
        if (recording == null) {
            free.add(j);
        }
    }

    private CUevent_st event() {
        CUevent_st e;
        if (recording == null && !free.isEmpty()) {
            e = free.poll();
        } else {
            e = new CUevent_st();
            Check.cuda("cudaEventCreateWithFlags", cudaEventCreateWithFlags(e, cudaEventDisableTiming));
            all.add(e);
        }
        if (recording != null) {
            recording.add(e);
        }
        return e;
    }

    /** Frees a recording's events. */
    void destroy(List<CUevent_st> events) {
        for (CUevent_st e : events) {
            if (all.remove(e)) {
                cudaEventDestroy(e);
            }
        }
    }

    @Override
    public void close() {
        for (CUevent_st e : all) {
            cudaEventDestroy(e);
        }
        all.clear();
        free.clear();
        if (copies != null) {
            copies.synchronize("copies behind the pass");
            copies.close();
        }
    }
}
