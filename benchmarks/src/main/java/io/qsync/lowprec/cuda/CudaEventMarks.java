package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import io.qsync.bench.gpu.OpTimeline;
import org.bytedeco.cuda.cudart.CUevent_st;

/**
 * {@link OpTimeline.Marks} as CUDA events recorded on a {@link CudaTensorOps}' stream: the time between two marks is
 * the device time of the work queued between them. Lives in the CUDA package to reach the ops' stream.
 */
public final class CudaEventMarks implements OpTimeline.Marks {
    private final CudaStream stream;
    private final CUevent_st[] events;

    /** Creates {@code capacity} events for the stream of {@code ops}. */
    public CudaEventMarks(CudaTensorOps ops, int capacity) {
        this.stream = ops.stream();
        this.events = new CUevent_st[capacity];
        for (int i = 0; i < capacity; i++) {
            events[i] = new CUevent_st();
            Check.cuda("cudaEventCreate", cudaEventCreate(events[i]));
        }
    }

    @Override
    public int capacity() {
        return events.length;
    }

    @Override
    public void mark(int i) {
        Check.cuda("cudaEventRecord", cudaEventRecord(events[i], stream.handle()));
    }

    @Override
    public void await() {
        stream.synchronize("op timeline");
    }

    @Override
    public double millis(int a, int b) {
        float[] ms = new float[1];
        Check.cuda("cudaEventElapsedTime", cudaEventElapsedTime(ms, events[a], events[b]));
        return ms[0];
    }

    @Override
    public void close() {
        for (CUevent_st e : events) {
            cudaEventDestroy(e);
        }
    }
}
