package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;

/**
 * A DL4J layer implementation whose compute precision can be changed at run time on a live network
 * (no re-initialisation, parameters untouched). The precision lives in the layer instance, not in
 * its serialized configuration; new instances start in {@link Precision#FP32}.
 */
public interface PrecisionSwitchable {
    /** @return the precision the next forward/backward pass runs in */
    Precision getPrecision();

    /**
     * @param precision the precision for subsequent passes
     * @throws IllegalArgumentException if this layer cannot run in {@code precision}
     */
    void setPrecision(Precision precision);

    /**
     * @return bytes the last training forward pass kept for backward at its precision (0 before the
     *         first low-precision pass; for FP32 the FP32 sizes of input and weights)
     */
    long lastSavedBytes();

    /**
     * @return bytes this layer holds or uses right now outside DL4J workspaces: its own buffers ({@link #ownHeldBytes()})
     *         plus its scratch pool ({@link #scratchPool()}), which it shares with the other switchable layers of its
     *         network; each buffer counted once. Summing this over the layers of a network counts a shared pool once
     *         per layer: use {@link NetworkBuffers#heldBytes} for a network's total. Read between forward and backward
     *         for the peak (the cached pass is dropped by backward, the pools are not). 0 for layers that never ran
     *         in low precision.
     */
    default long heldBytes() {
        ArrayAllocator.Pool scratch = scratchPool();
        return ownHeldBytes() + (scratch == null ? 0 : scratch.heldBytes());
    }

    /**
     * @return bytes only this layer holds outside DL4J workspaces: its own pool of kept buffers (saved operands and
     *         pre-activation copy, reused across iterations) plus anything its cached forward pass holds outside the
     *         pools; {@link #heldBytes()} without the scratch pool
     */
    default long ownHeldBytes() {
        return 0;
    }

    /**
     * @return bytes of the pooled buffers the layer uses ({@link io.qsync.lowprec.ArrayAllocator}): its own pool of
     *         kept arrays (quantized/rounded operands, pre-activation copy) and its scratch pool (im2col matrices,
     *         backward temporaries), one FP32 array per role, reused across iterations and kept outside DL4J
     *         workspaces; included in {@link #heldBytes()}
     */
    default long poolBytes() {
        return 0;
    }

    /**
     * @return the pool the layer takes the arrays from that die within one op call (shared by the switchable layers
     *         of a network, see {@link NetworkBuffers}); null if it has none yet
     */
    default ArrayAllocator.Pool scratchPool() {
        return null;
    }

    /**
     * Makes the layer take its scratch arrays from {@code pool} from its next pass on (the pool must be used by one
     * thread at a time; its buffers are free between op calls, so it can be replaced at any time between passes).
     *
     * @param pool a pool from {@link ArrayAllocator#sharedScratch()}
     */
    default void useScratchPool(ArrayAllocator.Pool pool) {}
}
