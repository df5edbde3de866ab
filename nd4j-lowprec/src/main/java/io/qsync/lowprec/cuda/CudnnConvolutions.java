package io.qsync.lowprec.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The cuDNN convolutions of one {@link CudaTensorOps}: whether cuDNN is used at all (switched on per engine at open;
 * {@code -Dqsync.cuda.cudnn=false} is the default's off switch), the handle (created at the first convolution), and
 * every {@link CudnnConvolution} made, closed with the ops. Anything cuDNN refuses at set-up leaves that layer on
 * im2col + GEMM; {@link #state()} and {@link Convolution#describe()} say which path each layer took.
 */
final class CudnnConvolutions implements AutoCloseable {
    /** Whether engines opened without an explicit choice use cuDNN ({@code -Dqsync.cuda.cudnn}, default true). */
    static final boolean DEFAULT_ON = !"false".equalsIgnoreCase(System.getProperty("qsync.cuda.cudnn", "true"));

    private final boolean on;
    private final CudaStream stream;
    private final DeviceAllocator alloc;
    private final Supplier<QuantKernels> kernels;
    private final List<CudnnConvolution> made = new ArrayList<>();
    private final List<String> refused = new ArrayList<>();
    private CudnnHandle handle;
    private String offWhy;

    /**
     * @param on      false: never offer a convolution (im2col + GEMM everywhere)
     * @param kernels the rounding kernels for TF32, FP16 and BF16 (created on demand)
     */
    CudnnConvolutions(boolean on, CudaStream stream, DeviceAllocator alloc, Supplier<QuantKernels> kernels) {
        this.on = on;
        this.stream = stream;
        this.alloc = alloc;
        this.kernels = kernels;
        this.offWhy = on ? null : "cuDNN switched off for this engine (-Dqsync.cuda.cudnn=false or open(..., false))";
    }

    /** Why no convolution is offered, or null; loads cuDNN on the first call (not at engine open). */
    private String offWhy() {
        if (offWhy == null && handle == null) {
            offWhy = CudnnPresence.whyUnavailable();
        }
        return offWhy;
    }

    /**
     * A cuDNN convolution, or null when cuDNN is off or unavailable, the precision is not FP32, TF32, FP16 or BF16
     * (INT8 and FP8 keep their own GEMMs), the padding is asymmetric or cuDNN refused the set-up (the reason is kept
     * for {@link #state()}).
     *
     * @param precision FP32 (FMA units only), or TF32 / FP16 / BF16 (RNE-rounded operands on TF32 tensor cores)
     */
    Convolution open(ConvGeom g, int batch, int nOut, Precision precision) {
        if (offWhy() != null
                || (precision != Precision.FP32
                        && precision != Precision.TF32
                        && precision != Precision.FP16
                        && precision != Precision.BF16)) {
            return null;
        }
        String asym = CudnnConvolution.unsupported(g);
        if (asym != null) {
            refused.add(asym);
            return null;
        }
        try {
            if (handle == null) {
                handle = new CudnnHandle(stream, alloc);
            }
        } catch (RuntimeException e) {
            offWhy = "cuDNN handle: " + e.getMessage();
            return null;
        }
        try {
            CudnnConvolution c = new CudnnConvolution(
                    handle,
                    alloc,
                    precision == Precision.FP32 ? null : kernels.get(),
                    stream,
                    g,
                    batch,
                    nOut,
                    precision);
            made.add(c);
            return c;
        } catch (RuntimeException e) {
            refused.add(e.getMessage());
            return null;
        }
    }

    /** @return "cuDNN 91002" (and the set-ups it refused), or why cuDNN is not used */
    String state() {
        if (offWhy() != null) {
            return "no cuDNN: " + offWhy;
        }
        return "cuDNN " + CudnnPresence.version() + (refused.isEmpty() ? "" : "; refused: " + refused);
    }

    @Override
    public void close() {
        made.forEach(CudnnConvolution::close);
        made.clear();
        if (handle != null) {
            handle.close();
            handle = null;
        }
    }
}
