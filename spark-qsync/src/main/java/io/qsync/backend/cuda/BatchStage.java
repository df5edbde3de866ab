package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * One host staging buffer for a batch's features or targets ({@link TensorOps#hostBuffer}: page-locked on CUDA), and
 * the copy still reading it. {@link #upload} fills the stage (large arrays in parallel chunks: a 1024-image batch is
 * 3.2 MB, whose single-threaded copy the GPU would otherwise wait for), queues the copy to the device and returns
 * without waiting for it ({@link TensorOps#uploadQueued}); the next upload waits for the previous copy before it
 * writes the stage again.
 */
final class BatchStage {
    /** Floats below which one thread fills the stage. */
    private static final int PARALLEL_FROM = 1 << 18;
    /** Floats per parallel chunk. */
    private static final int CHUNK = 1 << 17;

    private final TensorOps ops;
    private final FloatBuffer stage;
    private TensorOps.Mark pending;

    /** A stage of {@code length} floats on {@code ops}. */
    BatchStage(TensorOps ops, String what, long length) {
        this.ops = ops;
        this.stage = ops.hostBuffer(what, length);
    }

    /** Copies {@code values} into {@code dst} (queued ahead of the ops queued after it). */
    void upload(float[] values, Tensor dst) {
        if (values.length > stage.capacity()) {
            throw new IllegalArgumentException(
                    "batch of " + values.length + " values, the stage holds " + stage.capacity());
        }
        if (pending != null) {
            pending.await();
            pending = null;
        }
        if (values.length < PARALLEL_FROM) {
            stage.duplicate().clear().put(values);
        } else {
            int chunks = (values.length + CHUNK - 1) / CHUNK;
            IntStream.range(0, chunks).parallel().forEach(i -> {
                int from = i * CHUNK;
                stage.duplicate().position(from).put(values, from, Math.min(CHUNK, values.length - from));
            });
        }
        pending = ops.uploadQueued(stage.duplicate().clear().limit(values.length), dst);
    }
}
