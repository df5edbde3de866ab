package io.qsync.backend.cuda;

import java.util.List;

/** One node of a compiled program: a layer or vertex, its forward and backward pass over {@link Exec}'s buffers. */
interface Step {

    /** The node's name (DL4J's layer or vertex name). */
    String name();

    /** Names of the nodes whose outputs this node reads, in order. */
    List<String> inputs();

    /** Output shape per example. */
    Shape out();

    /** Computes the output ({@code x.out(name())}) from the inputs; {@code training}: batch statistics etc. */
    void forward(Exec x, boolean training);

    /**
     * From the output's gradient ({@link Exec#gradOut}) computes this node's parameter gradients and, for every input
     * that wants one ({@link Exec#gradInTarget}), the input's gradient.
     */
    void backward(Exec x);
}
