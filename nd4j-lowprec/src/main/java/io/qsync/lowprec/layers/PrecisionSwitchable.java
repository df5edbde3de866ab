package io.qsync.lowprec.layers;

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
     * @return bytes this layer holds right now outside DL4J workspaces: its pooled buffers ({@link #poolBytes()},
     *         which persist across iterations once a low-precision training pass ran) plus anything its cached forward
     *         pass holds outside the pool; each buffer counted once. Read between forward and backward for the peak
     *         (the cached pass is dropped by backward, the pool is not). 0 for layers that never ran in low precision.
     */
    default long heldBytes() {
        return 0;
    }

    /**
     * @return bytes of the layer's pooled buffers ({@link io.qsync.lowprec.ArrayAllocator#pooled()}): one FP32 array
     *         per role (quantized/rounded operands, im2col matrices, pre-activation copy, backward temporaries),
     *         reused across iterations and kept outside DL4J workspaces; included in {@link #heldBytes()}
     */
    default long poolBytes() {
        return 0;
    }
}
