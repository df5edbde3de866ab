package io.qsync.backend.cuda;

import io.qsync.lowprec.train.TensorOps;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The gradient copies of a training pass ({@link TensorOps#downloadBehind}): where each part of the gradient starts
 * and the mark that says it has landed on the host, for the latest pass and for the one recorded with the replayed
 * graph (every launch of the recording re-arms its marks).
 */
final class PassMarks {
    private List<TensorOps.Mark> marks = List.of();
    private List<Long> from = List.of();
    private List<TensorOps.Mark> replayMarks = List.of();
    private List<Long> replayFrom = List.of();

    /** The pass body queued these copies: {@code from.get(i)} starts part {@code i}; the last mark is the loss's. */
    void queued(List<TensorOps.Mark> marks, List<Long> from) {
        this.marks = marks;
        this.from = from;
    }

    /** After {@link PassReplay#run}: a recording keeps the marks it recorded, a replay takes them back. */
    void ran(PassReplay.Ran how) {
        switch (how) {
            case RECORDED -> {
                replayMarks = marks;
                replayFrom = from;
            }
            case REPLAYED -> {
                marks = replayMarks;
                from = replayFrom;
            }
            case EAGER -> {}
        }
    }

    /** Waits for each part in order, telling {@code readyFrom} where it starts, then for the loss. */
    void awaitAll(LongConsumer readyFrom) {
        for (int i = 0; i < from.size(); i++) {
            marks.get(i).await();
            readyFrom.accept(from.get(i));
        }
        marks.get(marks.size() - 1).await();
    }
}
