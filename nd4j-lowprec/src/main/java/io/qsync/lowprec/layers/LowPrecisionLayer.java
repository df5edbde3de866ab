package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;

/**
 * A switchable layer implementation whose {@link PrecisionSwitchable} methods read its {@link LowPrecisionState}
 * (the implementations extend different DL4J classes, so they share this plumbing through the state they hold).
 */
interface LowPrecisionLayer extends PrecisionSwitchable {
    /** @return the layer's precision state and buffers */
    LowPrecisionState<?> lowPrecisionState();

    @Override
    default Precision getPrecision() {
        return lowPrecisionState().precision();
    }

    @Override
    default void useScratchPool(ArrayAllocator.Pool pool) {
        lowPrecisionState().useScratchPool(pool);
    }

    @Override
    default long lastSavedBytes() {
        return lowPrecisionState().lastSavedBytes();
    }

    /** @return how often backprop reused the training forward pass (for tests) */
    default long forwardCacheHits() {
        return lowPrecisionState().cache().hits();
    }

    @Override
    default long ownHeldBytes() {
        return lowPrecisionState().ownHeldBytes();
    }

    /**
     * {@inheritDoc} A layer that runs a training pass before a network pool was installed creates a private one.
     */
    @Override
    default ArrayAllocator.Pool scratchPool() {
        return lowPrecisionState().scratchPool();
    }

    /** {@inheritDoc} Here: the layer's own pool of kept arrays plus its scratch pool. */
    @Override
    default long poolBytes() {
        return lowPrecisionState().poolBytes();
    }
}
