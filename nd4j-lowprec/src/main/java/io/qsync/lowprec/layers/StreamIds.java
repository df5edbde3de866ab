package io.qsync.lowprec.layers;

/** Stochastic-rounding stream ids for a layer: distinct per layer index and per iteration/epoch. */
final class StreamIds {
    private StreamIds() {}

    /**
     * @param layerIndex layer index in its network
     * @param iteration  iteration count
     * @param epoch      epoch count
     * @return a stream id (the same in a forward pass and the forward recomputed by backprop)
     */
    static long of(int layerIndex, int iteration, int epoch) {
        return ((long) layerIndex << 48) ^ ((long) epoch << 32) ^ (iteration & 0xFFFFFFFFL);
    }
}
