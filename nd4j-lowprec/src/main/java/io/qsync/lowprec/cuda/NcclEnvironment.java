package io.qsync.lowprec.cuda;

import java.lang.reflect.Method;

/**
 * Puts {@code NCCL_NVLS_ENABLE=0} into this process' native environment before NCCL reads it: the GPU machines this
 * project runs on require NVLink multicast (NVLS) off, and NCCL reads its settings from the C environment once, at its
 * first call in the process. Java cannot change its own environment, so the C library's {@code setenv} is called
 * through JNA (on the class path through DL4J's oshi-core; looked up reflectively so that its absence is an error
 * message, not a linkage failure). Without JNA the variable must already be {@code 0} (export it before the JVM
 * starts; for Spark executors {@code spark.executorEnv.NCCL_NVLS_ENABLE=0}).
 *
 * <p>Child processes started later through {@link ProcessBuilder} do not see the change (the JVM keeps the
 * environment it started with); launchers of GPU processes must pass the variable themselves.
 */
final class NcclEnvironment {
    /** NCCL's switch for NVLink SHARP / multicast. */
    static final String NVLS = "NCCL_NVLS_ENABLE";

    private static String failure;
    private static boolean done;

    private NcclEnvironment() {}

    /**
     * Sets {@value #NVLS}=0 once per process.
     *
     * @throws IllegalStateException if the variable is not 0 and cannot be set (names the variable to export)
     */
    static synchronized void prepare() {
        if (!done) {
            failure = apply();
            done = true;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    /** @return the C environment's value of {@code name} (through JNA), or {@link System#getenv} without JNA */
    static String nativeValue(String name) {
        Method invoke = jnaInvoke();
        if (invoke == null) {
            return System.getenv(name);
        }
        try {
            return (String) invoke.invoke(function("getenv"), String.class, new Object[] {name});
        } catch (ReflectiveOperationException e) {
            return System.getenv(name);
        }
    }

    /** Sets the variable; returns null on success, else why it could not. */
    private static String apply() {
        Method invoke = jnaInvoke();
        if (invoke == null) {
            if ("0".equals(System.getenv(NVLS))) {
                return null;
            }
            return "NCCL needs " + NVLS + "=0 (NVLink multicast off) but JNA is not on the class path to set it: "
                    + "export " + NVLS + "=0 before starting the JVM (Spark: spark.executorEnv." + NVLS + "=0)";
        }
        try {
            Object rc = invoke.invoke(function("setenv"), Integer.class, new Object[] {NVLS, "0", 1});
            String now = nativeValue(NVLS);
            if (!Integer.valueOf(0).equals(rc) || !"0".equals(now)) {
                return "setenv(" + NVLS + ", 0) failed (returned " + rc + ", value now " + now + "): export " + NVLS
                        + "=0 before starting the JVM";
            }
            return null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "setenv(" + NVLS + ", 0) through JNA failed (" + e + "): export " + NVLS
                    + "=0 before starting the JVM";
        }
    }

    /** {@code com.sun.jna.Function#invoke(Class, Object[])}, or null without JNA. */
    private static Method jnaInvoke() {
        try {
            Class<?> fn = Class.forName("com.sun.jna.Function");
            return fn.getMethod("invoke", Class.class, Object[].class);
        } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
            return null;
        }
    }

    /** The C library's function {@code name}, resolved in the running process. */
    private static Object function(String name) throws ReflectiveOperationException {
        Class<?> lib = Class.forName("com.sun.jna.NativeLibrary");
        Object process = lib.getMethod("getProcess").invoke(null);
        return lib.getMethod("getFunction", String.class).invoke(process, name);
    }
}
