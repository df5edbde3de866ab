package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NCHW;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NHWC;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;
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
    /** Whether INT8 layers may use {@link CudnnInt8Convolution} ({@code -Dqsync.cuda.int8Cudnn}, default true; read per layer). */
    static boolean int8On() {
        return !"false".equalsIgnoreCase(System.getProperty("qsync.cuda.int8Cudnn", "true"));
    }

    /**
     * Whether convolutions with small patches use {@link SmallPatchKernels} for their forward and backward filter
     * ({@code -Dqsync.cuda.smallPatch}, default true; read per layer).
     */
    static boolean smallPatchOn() {
        return !"false".equalsIgnoreCase(System.getProperty("qsync.cuda.smallPatch", "true"));
    }

    /**
     * Whether FP16 and BF16 layers run their forward and backward data on half-size tensors with outputs rounded to
     * the format, as QSync's real kernels do ({@link CudnnHalfTensors}; {@code -Dqsync.cuda.halfTensors}; read per
     * layer). Unset, a card with TF32 tensor cores keeps the CPU emulation's FP32 outputs (FP16-rounded operands on
     * TF32 tensor cores), and a card without them (compute capability 7.5, the T4) takes half-size tensors in NCHW:
     * its tensor cores take FP16 tensors only, and FP32 ones would run on its FMA units at an eighth of the speed.
     *
     * @param tf32Cores whether the card has TF32 tensor cores ({@link DeviceFacts#hasTf32})
     */
    static boolean halfTensorsOn(boolean tf32Cores) {
        return halfLayout(tf32Cores) != CudnnHalfTensors.OFF;
    }

    /**
     * The layout of those half-size tensors: {@code -Dqsync.cuda.halfTensors=true} (or {@code nchw}) keeps the
     * engine's NCHW, {@code =nhwc} transposes in the casts to and from the format (cuDNN's FP16/BF16 tensor-core
     * kernels work in NHWC); {@link CudnnHalfTensors#OFF} when {@code false}; unset, {@link #halfTensorsOn}'s default.
     *
     * @throws IllegalArgumentException for any other value
     */
    static int halfLayout(boolean tf32Cores) {
        String set = System.getProperty("qsync.cuda.halfTensors");
        if (set == null) {
            return tf32Cores ? CudnnHalfTensors.OFF : CUDNN_TENSOR_NCHW;
        }
        String v = set.toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "false" -> CudnnHalfTensors.OFF;
            case "true", "nchw" -> CUDNN_TENSOR_NCHW;
            case "nhwc" -> CUDNN_TENSOR_NHWC;
            default -> throw new IllegalArgumentException(
                    "-Dqsync.cuda.halfTensors must be false, true (nchw) or nhwc, not '" + v + "'");
        };
    }

    private final boolean on;
    private final boolean tf32Cores;
    private final CudaStream stream;
    private final DeviceAllocator alloc;
    private final Supplier<QuantKernels> kernels;
    private final SmallPatchKernels small;
    private final List<Convolution> made = new ArrayList<>();
    private final List<String> refused = new ArrayList<>();
    private CudnnHandle handle;
    private String offWhy;

    /**
     * @param on      false: never offer a convolution (im2col + GEMM everywhere)
     * @param kernels the rounding kernels for TF32, FP16 and BF16 (created on demand)
     * @param small   the kernels for convolutions with small patches
     */
    CudnnConvolutions(
            boolean on,
            boolean tf32Cores,
            CudaStream stream,
            DeviceAllocator alloc,
            Supplier<QuantKernels> kernels,
            SmallPatchKernels small) {
        this.on = on;
        this.tf32Cores = tf32Cores;
        this.small = small;
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
     * (INT8: {@link #openInt8}; FP8 keeps its own GEMMs), the padding is asymmetric or cuDNN refused the set-up (the
     * reason is kept for {@link #state()}).
     *
     * @param precision FP32 (FMA units only), or TF32 / FP16 / BF16 (RNE-rounded operands on TF32 tensor cores)
     */
    Convolution open(ConvGeom g, int batch, int nOut, Precision precision) {
        return open(g, batch, nOut, precision, halfLayout(tf32Cores));
    }

    private Convolution open(ConvGeom g, int batch, int nOut, Precision precision, int halfLayout) {
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
                    precision,
                    smallPatchOn() && SmallPatchKernels.applies(g) ? small : null,
                    halfLayout);
            made.add(c);
            return c;
        } catch (RuntimeException e) {
            refused.add(e.getMessage());
            return null;
        }
    }

    /**
     * An INT8 layer's convolution ({@link CudnnInt8Convolution}: INT8 codes gathered into columns and one INT8 GEMM
     * forward, cuDNN FP16 backward), or null when cuDNN is off or unavailable, {@code -Dqsync.cuda.int8Cudnn=false},
     * or the quantizer or geometry needs the im2col path (the reason is kept for {@link #state()}).
     */
    Convolution openInt8(ConvGeom g, int batch, int nOut, Int8Quantizer int8, LtMatmul lt) {
        if (!int8On()) {
            return null;
        }
        String why = CudnnInt8Convolution.unsupported(g, int8);
        if (why != null) {
            refused.add("INT8: " + why);
            return null;
        }
        // NCHW half tensors only: the INT8 convolution writes its codes into them as FP16 in the engine's layout
        Convolution back = open(
                g, batch, nOut, Precision.FP16, halfTensorsOn(tf32Cores) ? CUDNN_TENSOR_NCHW : CudnnHalfTensors.OFF);
        if (!(back instanceof CudnnConvolution fp16)) {
            return null;
        }
        made.remove(fp16); // closed by the INT8 convolution
        try {
            CudnnInt8Convolution c =
                    new CudnnInt8Convolution(fp16, alloc, kernels.get(), lt, stream, g, batch, nOut, int8);
            made.add(c);
            return c;
        } catch (RuntimeException e) {
            fp16.close();
            refused.add("INT8: " + e.getMessage());
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
        made.forEach(Convolution::close);
        made.clear();
        if (handle != null) {
            handle.close();
            handle = null;
        }
    }
}
