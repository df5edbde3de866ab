package io.qsync.bench.gpu;

import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.LowPrecisionLinear;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Diagnostics for the speed rows (issue 10): where one training step of a {@code ProgramEngine} spends its device time,
 * op by op. {@link #ops()} hands the engine a stand-in for its {@link TensorOps} that forwards every call, and while
 * {@link #arm armed} places a mark after each call that launches work (and after each call on the convolutions and
 * low-precision linears the ops hand out). The time between two marks is the device time of the op between them, so the
 * engine must run eagerly (a recorded graph launches nothing through the ops). Ops are keyed by their place in the step
 * (the same in every step of one batch size), named by the call and the length of its first tensor argument.
 */
public final class OpTimeline {
    /** Where marks go: CUDA events on the ops' stream, or the host clock for host ops (which run synchronously). */
    public interface Marks extends AutoCloseable {
        /** Largest number of marks in one window. */
        int capacity();

        /** Places mark {@code i} after the work issued so far. */
        void mark(int i);

        /** Waits for every placed mark; then {@link #millis} may be read. */
        void await();

        /** Milliseconds between marks {@code a} and {@code b}. */
        double millis(int a, int b);

        @Override
        void close();
    }

    /** Calls that launch no device work of their own. */
    private static final Set<String> SILENT = Set.of(
            "device",
            "allocate",
            "slice",
            "hostBuffer",
            "synchronize",
            "close",
            "describe",
            "precision",
            "directConvolutionState",
            "deviceMemoryBytes",
            "capture",
            "lowPrecisionLinear",
            "directConvolution",
            "peakBytes",
            "toString",
            "hashCode",
            "equals");

    private final TensorOps target;
    private final Marks marks;
    private final Map<Object, Object> wrapped = new IdentityHashMap<>();
    private final String[] labels;
    private final Map<String, List<Double>> samples = new LinkedHashMap<>();
    private int placed;
    private boolean armed;
    private int convolutions;
    private int linears;

    OpTimeline(TensorOps target, Marks marks) {
        this.target = target;
        this.marks = marks;
        this.labels = new String[marks.capacity()];
    }

    /** The stand-in to give the engine. */
    TensorOps ops() {
        return wrap(TensorOps.class, target, "");
    }

    /** Starts a window: the next calls are marked. */
    void arm() {
        placed = 0;
        marks.mark(placed++);
        armed = true;
    }

    /** Ends the window: waits for its marks and adds each op's time to its key's samples. */
    void collect() {
        armed = false;
        marks.await();
        for (int i = 1; i < placed; i++) {
            String key = String.format(java.util.Locale.ROOT, "%03d %s", i, labels[i]);
            samples.computeIfAbsent(key, k -> new ArrayList<>()).add(marks.millis(i - 1, i));
        }
    }

    /** Every op's samples, in the order of the step, keyed "place label". */
    Map<String, List<Double>> samples() {
        return samples;
    }

    private <T> T wrap(Class<T> type, Object delegate, String prefix) {
        InvocationHandler h = (proxy, m, args) -> {
            Object r;
            try {
                r = m.invoke(delegate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (r instanceof Convolution c) {
                return wrapped.computeIfAbsent(c, k -> wrap(Convolution.class, c, "conv" + convolutions++ + "."));
            }
            if (r instanceof LowPrecisionLinear l) {
                return wrapped.computeIfAbsent(
                        l, k -> wrap(LowPrecisionLinear.class, l, "linear" + linears++ + "(" + l.precision() + ")."));
            }
            if (armed && !SILENT.contains(m.getName())) {
                if (placed >= labels.length) {
                    throw new IllegalStateException("more than " + labels.length + " ops in one timeline window");
                }
                labels[placed] = prefix + m.getName() + size(args);
                marks.mark(placed++);
            }
            return r;
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h));
    }

    private static String size(Object[] args) {
        if (args != null) {
            for (Object a : args) {
                if (a instanceof Tensor t) {
                    return "[" + t.length() + "]";
                }
            }
        }
        return "";
    }
}
