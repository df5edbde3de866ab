package io.qsync.spark;

import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.TrainingEngine;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test backend ({@code spark.qsync.backend=test-drifting}): the CPU backend, except that the second engine a JVM
 * opens nudges parameter {@link #DRIFT_INDEX} by one ulp after its first update, as a replica with a wrong kernel
 * would. The job's replica check must catch it and name the parameter.
 */
public final class DriftingTestBackend extends TestBackend {
    /** The flat parameter the drifting replica changes. */
    public static final int DRIFT_INDEX = 5;

    private static final AtomicInteger OPENED = new AtomicInteger();

    /** Selected by {@code spark.qsync.backend=test-drifting}. */
    public DriftingTestBackend() {
        super("test-drifting");
    }

    @Override
    public TrainingEngine open(EngineRequest request) {
        TrainingEngine e = cpu.open(request);
        if (OPENED.incrementAndGet() % 2 == 1) {
            return e;
        }
        boolean[] drifted = {false};
        InvocationHandler h = (proxy, m, args) -> {
            Object out;
            try {
                out = m.invoke(e, args);
            } catch (java.lang.reflect.InvocationTargetException ex) {
                throw ex.getCause();
            }
            if (m.getName().equals("applyUpdate") && !drifted[0]) {
                drifted[0] = true;
                FloatBuffer p = FloatBuffer.allocate((int) e.numParams());
                e.readParams(p);
                p.put(DRIFT_INDEX, Math.nextUp(p.get(DRIFT_INDEX)));
                e.writeParams(p.rewind());
            }
            return out;
        };
        return (TrainingEngine)
                Proxy.newProxyInstance(TrainingEngine.class.getClassLoader(), new Class<?>[] {TrainingEngine.class}, h);
    }
}
