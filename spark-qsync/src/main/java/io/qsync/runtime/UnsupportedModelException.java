package io.qsync.runtime;

import java.util.List;

/** A backend cannot train the requested network or plan; the message lists every unsupported part. */
public final class UnsupportedModelException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    /**
     * @param backend  the backend's name
     * @param problems one line per unsupported layer or setting
     */
    public UnsupportedModelException(String backend, List<String> problems) {
        super("the " + backend + " backend cannot train this network:\n  - " + String.join("\n  - ", problems)
                + "\nset spark.qsync.backend=cpu (or --backend cpu) to train it on the CPU backend, which runs any DL4J "
                + "network");
        this.problems = List.copyOf(problems);
    }

    /** The unsupported parts, one line each. */
    public List<String> problems() {
        return problems;
    }
}
