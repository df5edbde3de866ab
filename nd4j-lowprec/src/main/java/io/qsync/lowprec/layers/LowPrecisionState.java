package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.ConvContext;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionConv2d;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import io.qsync.lowprec.quant.Int8Quantizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What every precision-switchable layer implementation keeps besides its DL4J state. The implementations extend
 * different DL4J classes, so each holds one of these: the precision, the bytes the last forward pass saved, the
 * one-slot {@link ForwardCache}, the saved context of a pass whose backward is pending, and the buffers of the
 * low-precision ops. Training passes take their arrays from two pools:
 * <ul>
 *   <li><b>kept</b> (this layer's own {@link ArrayAllocator#pooled()}): arrays that live from the forward pass to the
 *       backward pass, i.e. the rounded or quantized operands (and their FP16 backward copies) and the
 *       pre-activation copy of the forward cache;</li>
 *   <li><b>scratch</b> ({@link ArrayAllocator#sharedScratch()}, one per network, installed by {@link NetworkBuffers}):
 *       arrays dead before the op call that allocates them returns, i.e. im2col matrices, backward-format output
 *       gradients and other backward temporaries. Until a network installs its pool, the layer creates a private
 *       one.</li>
 * </ul>
 * Inference passes allocate fresh arrays. Not thread-safe, like the DL4J layer that holds it.
 *
 * @param <C> the saved-context type of the layer's op
 */
final class LowPrecisionState<C> {
    private final Function<C, INDArray[]> contextArrays;
    private final ForwardCache<C> cache = new ForwardCache<>();
    private volatile Precision precision = Precision.FP32;
    private long lastSavedBytes;
    private C pendingContext;
    private ArrayAllocator.Pool kept;
    private ArrayAllocator.Pool scratch;
    private ArrayAllocator training;

    /** @param contextArrays the arrays a saved context holds (entries may be null) */
    private LowPrecisionState(Function<C, INDArray[]> contextArrays) {
        this.contextArrays = contextArrays;
    }

    /** @return the state of a layer whose op is a {@link LowPrecisionGemm} (dense and output layers) */
    static LowPrecisionState<GemmContext> forGemm() {
        return new LowPrecisionState<>(
                c -> new INDArray[] {c.x().codes(), c.w().codes(), c.xBackward(), c.wBackward()});
    }

    /** @return the state of a layer whose op is a {@link LowPrecisionConv2d} */
    static LowPrecisionState<ConvContext> forConv() {
        return new LowPrecisionState<>(
                c -> new INDArray[] {c.input().codes(), c.weight().codes()});
    }

    /** @return the precision of the next pass */
    Precision precision() {
        return precision;
    }

    /**
     * Sets the precision and drops the cached forward pass and any pending context.
     *
     * @param p        new precision
     * @param layerId  the layer's description for error messages
     * @param dataType the network's data type
     * @throws IllegalArgumentException if {@code p} is null, or below FP32 in a network that is not FP32
     */
    void setPrecision(Precision p, String layerId, DataType dataType) {
        if (p == null) {
            throw new IllegalArgumentException("precision must not be null for layer " + layerId);
        }
        if (p != Precision.FP32 && dataType != DataType.FLOAT) {
            throw new IllegalArgumentException(
                    "Low precision emulation needs an FP32 network; layer " + layerId + " has data type " + dataType);
        }
        this.precision = p;
        cache.clear();
        pendingContext = null;
    }

    /** @return the one-slot cache of the training forward pass */
    ForwardCache<C> cache() {
        return cache;
    }

    /** @param ctx the saved context of a pass whose backward follows (null: none) */
    void keepContext(C ctx) {
        pendingContext = ctx;
    }

    /** @return the pending saved context (null if none); the slot is emptied */
    C takeContext() {
        C c = pendingContext;
        pendingContext = null;
        return c;
    }

    /** @return bytes the last forward pass saved for backward at its precision */
    long lastSavedBytes() {
        return lastSavedBytes;
    }

    /** @param bytes bytes the forward pass just run saved for backward */
    void recordSaved(long bytes) {
        lastSavedBytes = bytes;
    }

    /**
     * @param isTraining whether the pass is a training pass
     * @return training: the kept pool, with the scratch pool as its {@link ArrayAllocator#scratch()}; inference:
     *         {@link ArrayAllocator#FRESH}
     */
    ArrayAllocator allocator(boolean isTraining) {
        if (!isTraining) {
            return ArrayAllocator.FRESH;
        }
        if (training == null) {
            kept = kept == null ? ArrayAllocator.pooled() : kept;
            scratch = scratch == null ? ArrayAllocator.sharedScratch() : scratch;
            training = ArrayAllocator.split(kept, scratch);
        }
        return training;
    }

    /** @return a GEMM op at the current precision with this layer's buffers ({@link #allocator}) */
    LowPrecisionGemm gemm(boolean isTraining, Int8Quantizer int8) {
        return new LowPrecisionGemm(precision, int8, allocator(isTraining));
    }

    /** @return a convolution op at the current precision with this layer's buffers ({@link #allocator}) */
    LowPrecisionConv2d conv(boolean isTraining, Int8Quantizer int8) {
        return new LowPrecisionConv2d(precision, int8, allocator(isTraining));
    }

    /** @return the scratch pool the layer uses (shared or private), null before it needed or was given one */
    ArrayAllocator.Pool scratchPool() {
        return scratch;
    }

    /** @param shared the scratch pool of the layer's network (replaces any other; its buffers are free between ops) */
    void useScratchPool(ArrayAllocator.Pool shared) {
        if (shared == null) {
            throw new IllegalArgumentException("scratch pool must not be null");
        }
        scratch = shared;
        training = null;
    }

    /** @return bytes of the kept pool plus the scratch pool */
    long poolBytes() {
        return bytes(kept) + bytes(scratch);
    }

    /**
     * @return bytes only this layer holds outside workspaces: its kept pool, plus the distinct buffers of the cached
     *         forward pass and of a pending context that lie in neither pool (e.g. codes of a per-channel quantization)
     */
    long ownHeldBytes() {
        List<INDArray> arrays = new ArrayList<>();
        ForwardCache.Entry<C> e = cache.peek();
        if (e != null) {
            arrays.addAll(Arrays.asList(contextArrays.apply(e.context())));
            arrays.add(e.preActivation());
        }
        C pending = pendingContext;
        if (pending != null) {
            arrays.addAll(Arrays.asList(contextArrays.apply(pending)));
        }
        Set<DataBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long n = bytes(kept);
        for (INDArray a : arrays) {
            if (a != null && !owns(kept, a) && !owns(scratch, a) && seen.add(a.data())) {
                n += a.data().length() * a.data().getElementSize();
            }
        }
        return n;
    }

    private static long bytes(ArrayAllocator.Pool pool) {
        return pool == null ? 0 : pool.heldBytes();
    }

    private static boolean owns(ArrayAllocator.Pool pool, INDArray a) {
        return pool != null && pool.owns(a);
    }
}
