package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;

import io.qsync.lowprec.train.TensorOps;
import java.util.function.Consumer;
import org.bytedeco.cuda.cudart.CUevent_st;

/**
 * A {@link TensorOps.Mark} on one recorded CUDA event: the first {@link #await} waits for the event and hands it back
 * for reuse, later ones return at once.
 */
final class EventMark implements TensorOps.Mark {
    private final CUevent_st done;
    private final String what;
    private final Consumer<CUevent_st> recycle;
    private boolean awaited;

    /**
     * @param what the copy in words, for the error
     * @param recycle takes the event back once it has been waited for
     */
    EventMark(CUevent_st done, String what, Consumer<CUevent_st> recycle) {
        this.done = done;
        this.what = what;
        this.recycle = recycle;
    }

    @Override
    public void await() {
        if (!awaited) {
            awaited = true;
            Check.cuda("cudaEventSynchronize(" + what + ")", cudaEventSynchronize(done));
            recycle.accept(done);
        }
    }
}
