package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import org.bytedeco.cuda.cudart.CUstream_st;

/** A non-blocking CUDA stream; every op of this package is enqueued on one. */
public final class CudaStream implements AutoCloseable {
    private final CUstream_st stream;

    /** Creates a stream on the current device ({@code cudaStreamNonBlocking}). */
    public CudaStream() {
        stream = new CUstream_st();
        Check.cuda("cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));
    }

    /** @return the native handle */
    public CUstream_st handle() {
        return stream;
    }

    /** Waits for all work on this stream and reports a failed launch, naming {@code what}. */
    public void synchronize(String what) {
        Check.cuda("cudaStreamSynchronize after " + what, cudaStreamSynchronize(stream));
        Check.cuda("cudaGetLastError after " + what, cudaGetLastError());
    }

    @Override
    public void close() {
        Check.cuda("cudaStreamDestroy", cudaStreamDestroy(stream));
    }
}
