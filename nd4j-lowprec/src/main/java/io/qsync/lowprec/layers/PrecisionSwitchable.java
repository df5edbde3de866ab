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
     * @return bytes this layer holds right now outside DL4J workspaces for the next backward pass (the emulation's
     *         cached forward pass: FP32 code arrays of its saved operands plus a copy of the pre-activation); 0 when
     *         nothing is cached (FP32, or after backward consumed the cache). Call it between forward and backward.
     */
    default long heldBytes() {
        return 0;
    }
}
