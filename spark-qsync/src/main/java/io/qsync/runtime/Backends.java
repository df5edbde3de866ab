package io.qsync.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Finds {@link TrainingBackend}s on the class path ({@link ServiceLoader}) and resolves the
 * {@code spark.qsync.backend} setting: a backend's name, or {@code auto} = the usable backend of highest priority
 * (a GPU backend when this process sees a device, else the CPU backend).
 */
public final class Backends {
    /** The setting's value that picks the best usable backend. */
    public static final String AUTO = "auto";

    private static final String KEY = "spark.qsync.backend";

    private Backends() {}

    /** Every backend on the class path, highest priority first. */
    public static List<TrainingBackend> all() {
        List<TrainingBackend> out = new ArrayList<>();
        ServiceLoader.load(TrainingBackend.class, Backends.class.getClassLoader())
                .forEach(out::add);
        out.sort(Comparator.comparingInt(TrainingBackend::priority).reversed());
        return out;
    }

    /** The backend named {@code name}, if it is on the class path (usable or not). */
    public static Optional<TrainingBackend> find(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return all().stream().filter(b -> b.name().equals(n)).findFirst();
    }

    /**
     * Resolves a {@code spark.qsync.backend} value to a usable backend that can train {@code request}: the named one,
     * or for {@code auto} the usable backend of highest priority that supports the request's network and plan.
     *
     * @throws IllegalArgumentException  if no backend has that name (the message lists the known ones)
     * @throws IllegalStateException     if the named backend cannot run in this process (the message says why and
     *                                   which value to set instead)
     * @throws UnsupportedModelException if the named backend cannot train the network (every unsupported part listed)
     */
    public static TrainingBackend select(String name, EngineRequest request) {
        String n = name == null ? AUTO : name.trim().toLowerCase(Locale.ROOT);
        List<TrainingBackend> all = all();
        if (n.equals(AUTO)) {
            return all.stream()
                    .filter(b -> b.unavailableReason().isEmpty()
                            && b.unsupported(request).isEmpty())
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(KEY + "=auto: no usable backend on the class "
                            + "path can train this network (" + describe(all) + ")"));
        }
        TrainingBackend b = select(n);
        List<String> problems = b.unsupported(request);
        if (!problems.isEmpty()) {
            throw new UnsupportedModelException(b.name(), problems);
        }
        return b;
    }

    /**
     * Resolves a backend name ({@code auto}: the usable backend of highest priority) to a usable backend.
     *
     * @throws IllegalArgumentException if no backend has that name (the message lists the known ones)
     * @throws IllegalStateException    if the backend cannot run in this process
     */
    public static TrainingBackend select(String name) {
        String n = name == null ? AUTO : name.trim().toLowerCase(Locale.ROOT);
        List<TrainingBackend> all = all();
        if (n.equals(AUTO)) {
            return all.stream()
                    .filter(b -> b.unavailableReason().isEmpty())
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(
                            KEY + "=auto: no usable backend on the class path (" + describe(all) + ")"));
        }
        TrainingBackend b = all.stream()
                .filter(x -> x.name().equals(n))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(KEY + "=" + name
                        + ": no such backend on the class path; " + "known: " + describe(all) + ", or " + AUTO));
        b.unavailableReason().ifPresent(why -> {
            throw new IllegalStateException(
                    KEY + "=" + n + " cannot run in this process: " + why + "; set " + KEY + "=cpu (or auto)");
        });
        return b;
    }

    private static String describe(List<TrainingBackend> all) {
        List<String> parts = new ArrayList<>();
        for (TrainingBackend b : all) {
            parts.add(b.name()
                    + b.unavailableReason()
                            .map(r -> " (unavailable: " + r + ")")
                            .orElse(""));
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }
}
