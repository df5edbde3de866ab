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
    default long lastSavedBytes() {
        return lowPrecisionState().lastSavedBytes();
    }

    @Override
    default long heldBytes() {
        return lowPrecisionState().heldBytes();
    }

    @Override
    default long ownHeldBytes() {
        return lowPrecisionState().ownHeldBytes();
    }

    @Override
    default long poolBytes() {
        return lowPrecisionState().poolBytes();
    }

    @Override
    default ArrayAllocator.Pool scratchPool() {
        return lowPrecisionState().scratchPool();
    }

    @Override
    default void useScratchPool(ArrayAllocator.Pool pool) {
        lowPrecisionState().useScratchPool(pool);
    }

    /** @return how often backprop reused the training forward pass (for tests) */
    default long forwardCacheHits() {
        return lowPrecisionState().cache().hits();
    }
}
