package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import java.util.Arrays;
import org.bytedeco.cuda.cudart.CUevent_st;

/**
 * Times device work with CUDA events: {@link #median} warms up, then records an event pair around each repeat and
 * returns the median in milliseconds.
 */
public final class CudaTimer implements AutoCloseable {
    private final CudaStream stream;
    private final CUevent_st[] start;
    private final CUevent_st[] stop;

    /**
     * @param stream  stream the timed work runs on
     * @param repeats largest number of repeats {@link #median} will be asked for
     */
    public CudaTimer(CudaStream stream, int repeats) {
        this.stream = stream;
        start = new CUevent_st[repeats];
        stop = new CUevent_st[repeats];
        for (int i = 0; i < repeats; i++) {
            start[i] = new CUevent_st();
            stop[i] = new CUevent_st();
            Check.cuda("cudaEventCreate", cudaEventCreate(start[i]));
            Check.cuda("cudaEventCreate", cudaEventCreate(stop[i]));
        }
    }

    /**
     * @param what    name for error messages
     * @param warmup  untimed runs first
     * @param repeats timed runs (≤ the constructor's)
     * @param work    enqueues one run on the stream
     * @return per-run times in ms, sorted ascending
     */
    public double[] times(String what, int warmup, int repeats, Runnable work) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        stream.synchronize(what + " warm-up");
        for (int i = 0; i < repeats; i++) {
            Check.cuda("cudaEventRecord", cudaEventRecord(start[i], stream.handle()));
            work.run();
            Check.cuda("cudaEventRecord", cudaEventRecord(stop[i], stream.handle()));
        }
        stream.synchronize(what);
        double[] t = new double[repeats];
        float[] ms = new float[1];
        for (int i = 0; i < repeats; i++) {
            Check.cuda("cudaEventElapsedTime", cudaEventElapsedTime(ms, start[i], stop[i]));
            t[i] = ms[0];
        }
        Arrays.sort(t);
        return t;
    }

    /**
     * Median over {@code repeats} event pairs, each around {@code inner} back-to-back runs, divided by {@code inner}:
     * for work of a few microseconds, where one event pair per run would time the host's launch rate.
     */
    public double medianBatched(String what, int warmup, int repeats, int inner, Runnable work) {
        return median(what, warmup, repeats, () -> {
                    for (int i = 0; i < inner; i++) {
                        work.run();
                    }
                })
                / inner;
    }

    /** @return median of {@link #times} in milliseconds */
    public double median(String what, int warmup, int repeats, Runnable work) {
        double[] t = times(what, warmup, repeats, work);
        return t.length % 2 == 1 ? t[t.length / 2] : 0.5 * (t[t.length / 2 - 1] + t[t.length / 2]);
    }

    @Override
    public void close() {
        for (int i = 0; i < start.length; i++) {
            cudaEventDestroy(start[i]);
            cudaEventDestroy(stop[i]);
        }
    }
}
