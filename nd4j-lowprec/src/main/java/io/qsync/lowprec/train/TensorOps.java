package io.qsync.lowprec.train;

import java.nio.FloatBuffer;

/**
 * The primitive operations a training program needs, over {@link Tensor}s this implementation allocated. All
 * matrices are row-major and dense; image tensors are NCHW. Results are written in order on one queue (a CUDA
 * stream): a host read ({@link #download}) sees every earlier operation's result. Unless a method says it
 * accumulates, it overwrites its output.
 */
public interface TensorOps extends AutoCloseable {

    /** Where it computes (for logs). */
    String device();

    /** A new zero-filled tensor of {@code length} floats ({@code what} names it in out-of-memory errors). */
    Tensor allocate(String what, long length);

    /** A view of {@code length} floats of {@code t} from {@code offset}. */
    Tensor slice(Tensor t, long offset, long length);

    /**
     * A host staging buffer of {@code length} floats that {@link #upload} and {@link #download} copy fastest (page-locked
     * memory for a GPU), position 0, limit {@code length}; freed by {@link #close}.
     */
    FloatBuffer hostBuffer(String what, long length);

    /** Copies {@code dst.length()} floats from {@code src} (from its position; the position is not moved) into dst. */
    void upload(FloatBuffer src, Tensor dst);

    /**
     * As {@link #upload}, but may return before the copy has read {@code src} (a {@link #hostBuffer}): the copy is
     * queued ahead of the ops queued after it, and {@code src} must stay unchanged until {@link Mark#await} returns. On
     * CUDA this saves the host a wait per batch. The host reference copies at once.
     */
    default Mark uploadQueued(FloatBuffer src, Tensor dst) {
        upload(src, dst);
        return () -> {};
    }

    /** Copies {@code src} into {@code dst} from its position (not moved); waits for the copy. */
    void download(Tensor src, FloatBuffer dst);

    /** Sets every element to {@code value}. */
    void fill(Tensor t, float value);

    /** dst = src (equal lengths). */
    void copy(Tensor src, Tensor dst);

    /**
     * {@code C[m,n] = alpha * op(A) * op(B) + beta * C}, op(A) {@code [m,k]} (A stored {@code [k,m]} when
     * {@code transA}), op(B) {@code [k,n]} (B stored {@code [n,k]} when {@code transB}).
     */
    void gemm(
            boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** {@code x[o, ch, i] += bias[ch]} for x of shape {@code [outer, channels, inner]}. */
    void addBias(Tensor x, Tensor bias, int outer, int channels, int inner);

    /** {@code db[ch] = sum over o, i of dy[o, ch, i]}. */
    void sumBias(Tensor dy, Tensor db, int outer, int channels, int inner);

    /** y = f(z) element-wise ({@code alpha}: leaky ReLU slope). y may be z. */
    void activate(Act act, double alpha, Tensor z, Tensor y);

    /** dz = dy * f'(z) element-wise. dz may be dy. */
    void activateBackward(Act act, double alpha, Tensor z, Tensor dy, Tensor dz);

    /**
     * {@link #addBias} then {@link #activate}: {@code z[o, ch, i] += bias[ch]}, then {@code y = f(z)}; z keeps the
     * biased values for the backward pass. A backend may do both in one pass, with the same results.
     */
    default void addBiasActivate(
            Act act, double alpha, Tensor z, Tensor bias, int outer, int channels, int inner, Tensor y) {
        addBias(z, bias, outer, channels, inner);
        activate(act, alpha, z, y);
    }

    /**
     * {@link #activateBackward} then {@link #sumBias}: {@code dz = dy * f'(z)}, then {@code db[ch]} = the sum of dz
     * over o and i. A backend may do both in one pass, with the same results.
     */
    default void activateBackwardSumBias(
            Act act, double alpha, Tensor z, Tensor dy, Tensor dz, Tensor db, int outer, int channels, int inner) {
        activateBackward(act, alpha, z, dy, dz);
        sumBias(dz, db, outer, channels, inner);
    }

    /**
     * im2col over a batch: {@code cols[r, b*P + p]} for patch row {@code r = (ch*kh + ky)*kw + kx}, image b and
     * output position p; positions outside the input read 0.
     */
    void im2col(Tensor x, ConvGeom g, int batch, Tensor cols);

    /** The adjoint of {@link #im2col}: dx (overwritten) = sum of the cols entries that read each input element. */
    void col2im(Tensor cols, ConvGeom g, int batch, Tensor dx);

    /** {@code dst[j, i, r] = src[i, j, r]} for src of shape {@code [a, b, inner]}. */
    void swapAxes(Tensor src, Tensor dst, int a, int b, int inner);

    /** Max ({@code max}) or average pooling of {@code planes} input planes (padding ignored / counted as 0). */
    void pool(boolean max, Tensor x, ConvGeom g, int planes, Tensor y);

    /** Pooling backward: dx (overwritten); max routes dy to the first maximum of each window. */
    void poolBackward(boolean max, Tensor x, Tensor dy, ConvGeom g, int planes, Tensor dx);

    /** Global pooling: {@code y[p] = max or mean of x[p, 0..size)} over {@code planes} rows. */
    void globalPool(boolean max, Tensor x, int planes, int size, Tensor y);

    /** Global pooling backward (dx overwritten). */
    void globalPoolBackward(boolean max, Tensor x, Tensor dy, int planes, int size, Tensor dx);

    /** Per-channel mean and biased variance of x {@code [n, c, inner]}. */
    void bnStats(Tensor x, int n, int c, int inner, Tensor mean, Tensor var);

    /** {@code y = gamma * (x - mean) / sqrt(var + eps) + beta} per channel. */
    void bnForward(
            Tensor x,
            Tensor mean,
            Tensor var,
            double eps,
            Tensor gamma,
            Tensor beta,
            int n,
            int c,
            int inner,
            Tensor y);

    /** Batch-norm backward with DL4J's formula (batch statistics); dx, dGamma, dBeta overwritten. */
    void bnBackward(
            Tensor x,
            Tensor dy,
            Tensor mean,
            Tensor var,
            double eps,
            Tensor gamma,
            int n,
            int c,
            int inner,
            Tensor dx,
            Tensor dGamma,
            Tensor dBeta);

    /**
     * DL4J's running-statistics "gradients" (subtracted from the parameters by a no-op updater):
     * {@code dMean = (1-decay)(globalMean - batchMean)}; variance parameterisation
     * {@code dVar = (1-decay)(globalVar - batchVar)}; log10-std parameterisation
     * {@code dVar = log(v / (decay v + (1-decay) batchVar)) / (2 ln 10)} with {@code v = (10^global)^2}.
     */
    void bnRunningDelta(
            Tensor globalMean,
            Tensor global,
            Tensor batchMean,
            Tensor batchVar,
            double decay,
            boolean log10Std,
            int c,
            Tensor dMean,
            Tensor dGlobal);

    /** {@code var = (10^log10Std)^2}. */
    void bnVarFromLog10Std(Tensor log10Std, Tensor var);

    /**
     * Softmax + multi-class cross-entropy (DL4J's MCXENT, probabilities clipped to [1e-10, 1-1e-10] in the score):
     * probs = softmax(z) per row, dz = probs - labels, {@code loss[0]} = sum over rows of the row losses.
     */
    void softmaxCrossEntropy(Tensor z, Tensor labels, int rows, int cols, Tensor probs, Tensor dz, Tensor loss);

    /** Softmax per row (inference). */
    void softmax(Tensor z, int rows, int cols, Tensor probs);

    /** Identity + MSE: {@code dz = 2 (out - labels) / cols}, {@code loss[0] = sum (out - labels)^2 / cols}. */
    void mse(Tensor out, Tensor labels, int rows, int cols, Tensor dz, Tensor loss);

    /** out = a + b (out may alias a or b). */
    void add(Tensor a, Tensor b, Tensor out);

    /**
     * Strided block copy: for o in [0, outer), {@code dst[o*dstStride + dstOffset + i] (+)= src[o*srcStride +
     * srcOffset + i]}, i in [0, block); accumulates when {@code accumulate}.
     */
    void copyBlocks(
            Tensor src,
            int srcStride,
            int srcOffset,
            Tensor dst,
            int dstStride,
            int dstOffset,
            int outer,
            int block,
            boolean accumulate);

    /** x *= s. */
    void scale(Tensor x, float s);

    /**
     * x /= d, a correctly rounded division as ND4J's {@code divi} (not a multiplication by 1/d, which differs in the last
     * bit for most d that are not powers of two): the updater's division by the batch size, which replicas on different
     * backends must compute bitwise alike.
     */
    void divide(Tensor x, float d);

    /** y += alpha * x. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** y += alpha * sign(x). */
    void axpySign(float alpha, Tensor x, Tensor y);

    /** {@code acc[0] += sum x^2} (accumulated in float; acc is a 1-float tensor). */
    void sumSquares(Tensor x, Tensor acc);

    /**
     * Scales x by its group's L2 norm {@code n = sqrt(sumSq[0])}: renormalise ({@code clip} false: x /= n when n > 0)
     * or clip ({@code clip} true: x *= threshold / n when n > threshold).
     */
    void normScale(Tensor x, Tensor sumSq, double threshold, boolean clip);

    /** x = clamp(x, -t, t). */
    void clip(Tensor x, float t);

    /** ND4J's Adam on update = g (in place), moments m, v; {@code iteration} counts from 0. */
    void adam(Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, int iteration);

    /** ND4J's Nesterov momentum: {@code v' = mu v - lr g; g = mu v - (1 + mu) v'}. */
    void nesterovs(Tensor g, Tensor v, double lr, double momentum);

    /**
     * A GEMM layer in a low precision ({@link LowPrecisionLinear}: QSync's forward and backward rules).
     *
     * @param precision TF32, FP16, BF16, INT8 or FP8_E4M3
     * @param int8      INT8 quantizer settings (used only for INT8)
     * @param stream    stochastic-rounding stream id of the layer
     */
    LowPrecisionLinear lowPrecisionLinear(
            io.qsync.lowprec.Precision precision, io.qsync.lowprec.quant.Int8Quantizer int8, long stream);

    /**
     * A library convolution for {@code batch} images of geometry {@code g} with {@code nOut} output channels at layer
     * precision {@code precision}, or null when these ops have none for it (the caller then uses
     * {@link Im2colConvolution}, or the low-precision path). Set-up (descriptors, algorithm choice, workspace) happens
     * here, outside any pass; the ops close what they returned when they close. The host reference has none.
     */
    default Convolution directConvolution(ConvGeom g, int batch, int nOut, io.qsync.lowprec.Precision precision) {
        return null;
    }

    /**
     * As {@link #directConvolution(ConvGeom, int, int, io.qsync.lowprec.Precision)}, with the INT8 quantizer of the
     * layer: ops that have a library path for INT8 layers (forward bit for bit as im2col + the INT8 GEMM) offer it
     * here. By default the same as the four-argument form.
     */
    default Convolution directConvolution(
            ConvGeom g,
            int batch,
            int nOut,
            io.qsync.lowprec.Precision precision,
            io.qsync.lowprec.quant.Int8Quantizer int8) {
        return directConvolution(g, batch, nOut, precision);
    }

    /** Whether {@link #directConvolution} can offer anything here, and why not (for logs and benchmark rows). */
    default String directConvolutionState() {
        return "none on " + device();
    }

    /** A point in the queued work that the host can wait for: see {@link #downloadBehind}. */
    interface Mark {
        /** Blocks until the copy behind this mark is done with its host buffer (a download: has landed there). */
        void await();
    }

    /**
     * Copies {@code src} into {@code dst} (a view of a {@link #hostBuffer}) once the work queued so far has finished,
     * without holding up the work queued after it: on CUDA a copy stream ordered by events, so that a gradient
     * bucket travels to the host while the rest of the backward pass computes. {@link Mark#await} returns once the
     * values are in {@code dst}. Unlike other host copies this one may run inside {@link #capture}: the copy and the
     * mark become part of the recorded graph, and every {@link Replay#launch} copies again and re-arms the mark.
     * Call {@link #joinDownloads} before the pass (or the capture) ends. The host reference copies at once.
     */
    default Mark downloadBehind(Tensor src, FloatBuffer dst) {
        download(src, dst);
        return () -> {};
    }

    /** Makes every op queued from now on wait for the copies started by {@link #downloadBehind}. */
    default void joinDownloads() {}

    /** Ops recorded once and replayed as one unit (a CUDA graph): see {@link #capture}. */
    interface Replay extends AutoCloseable {
        /** Enqueues the recorded ops again, on the same buffers. */
        void launch();

        @Override
        void close();
    }

    /**
     * Records what {@code body} enqueues, without running it, for replay with {@link Replay#launch}: the same kernels
     * on the same buffers, without the per-launch host cost. {@code body} must not allocate, free, copy to or from
     * the host or synchronise. Ops that cannot record return null (the host reference).
     *
     * @throws RuntimeException if recording failed (the caller runs {@code body} directly instead)
     */
    default Replay capture(Runnable body) {
        return null;
    }

    /**
     * Why layers of precision {@code p} cannot run on these ops' device, or null when they can (the host emulates
     * every precision).
     */
    default String whyCannotRun(io.qsync.lowprec.Precision p) {
        return null;
    }

    /** Memory of the device the tensors live on, in bytes; -1 for the host. */
    default long deviceMemoryBytes() {
        return -1;
    }

    /** Waits until every queued operation finished. */
    void synchronize();

    /** Frees everything this implementation allocated. */
    @Override
    void close();
}
