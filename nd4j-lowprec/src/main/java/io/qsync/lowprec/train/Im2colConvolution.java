package io.qsync.lowprec.train;

/**
 * {@link Convolution} as im2col + one GEMM over the whole batch on any {@link TensorOps}: {@code Yt[nOut, N*P] =
 * W[nOut, K] cols[K, N*P]}, then {@code [nOut, N, P] -> [N, nOut, P]}. Backward recomputes im2col instead of keeping
 * it. Its temporaries come from the caller's {@link Scratch} (shared by the layers of a program, so that the largest
 * layer sets the memory).
 */
public final class Im2colConvolution implements Convolution {
    /** Named temporaries of at least a given length, kept from call to call. */
    @FunctionalInterface
    public interface Scratch {
        /** A tensor of exactly {@code length} floats (a view of a buffer kept under {@code key}). */
        Tensor get(String key, long length);
    }

    private final TensorOps ops;
    private final ConvGeom g;
    private final int batch;
    private final int nOut;
    private final Scratch scratch;
    private Tensor x;
    private Tensor w;

    /**
     * @param ops     where it computes
     * @param g       geometry of one image
     * @param batch   images per call
     * @param nOut    output channels
     * @param scratch temporaries ({@code "cols"} and {@code "convT"})
     */
    public Im2colConvolution(TensorOps ops, ConvGeom g, int batch, int nOut, Scratch scratch) {
        this.ops = ops;
        this.g = g;
        this.batch = batch;
        this.nOut = nOut;
        this.scratch = scratch;
    }

    private long columns() {
        return (long) batch * g.outPlane();
    }

    @Override
    public String describe() {
        return "im2col+GEMM";
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor y) {
        this.x = x;
        this.w = w;
        long n = columns();
        Tensor cols = scratch.get("cols", g.patch() * n);
        ops.im2col(x, g, batch, cols);
        Tensor yt = scratch.get("convT", nOut * n);
        ops.gemm(false, false, nOut, (int) n, g.patch(), 1f, w, cols, 0f, yt);
        ops.swapAxes(yt, y, nOut, batch, g.outPlane());
    }

    @Override
    public void backward(Tensor dy, Tensor dx, Tensor dw) {
        if (x == null) {
            throw new IllegalStateException("backward before forward");
        }
        long n = columns();
        Tensor dyt = scratch.get("convT", nOut * n);
        ops.swapAxes(dy, dyt, batch, nOut, g.outPlane());
        Tensor cols = scratch.get("cols", g.patch() * n);
        ops.im2col(x, g, batch, cols);
        ops.gemm(false, true, nOut, g.patch(), (int) n, 1f, dyt, cols, 0f, dw);
        if (dx != null) {
            ops.gemm(true, false, g.patch(), (int) n, nOut, 1f, w, dyt, 0f, cols);
            ops.col2im(cols, g, batch, dx);
        }
    }

    /** Holds nothing of its own. */
    @Override
    public void close() {}
}
