package io.qsync.backend.cuda;

import java.util.List;

/** A {@link Step} with one input. */
interface UnaryStep extends Step {

    /** The node this one reads. */
    String input();

    @Override
    default List<String> inputs() {
        return List.of(input());
    }
}
