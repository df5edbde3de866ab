package io.qsync.backend.cuda;

import io.qsync.lowprec.train.TensorOps;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The gradient copies of a training pass ({@link TensorOps#downloadBehind}): where each part of the gradient starts
 * and the mark that says it has landed on the host, for the latest pass and for each batch size's recorded graph
 * (every launch of a recording re-arms its marks).
 */
final class PassMarks {
    private record Copies(List<TensorOps.Mark> marks, List<Long> from) {}

    private Copies latest = new Copies(List.of(), List.of());
    private final Map<Integer, Copies> recorded = new HashMap<>();

    /** The pass body queued these copies: {@code from.get(i)} starts part {@code i}; the last mark is the loss's. */
    void queued(List<TensorOps.Mark> marks, List<Long> from) {
        latest = new Copies(marks, from);
    }

    /**
     * After {@link PassReplay#run} at {@code rows}: a recording keeps the marks it recorded for its batch size, a
     * replay takes back those of its size.
     */
    void ran(int rows, PassReplay.Ran how) {
        switch (how) {
            case RECORDED -> recorded.put(rows, latest);
            case REPLAYED -> {
                Copies c = recorded.get(rows);
                if (c == null) {
                    throw new IllegalStateException("replayed a pass of " + rows + " rows that was never recorded");
                }
                latest = c;
            }
            case EAGER -> {}
        }
    }

    /** Waits for each part in order, telling {@code readyFrom} where it starts, then for the loss. */
    void awaitAll(LongConsumer readyFrom) {
        for (int i = 0; i < latest.from().size(); i++) {
            latest.marks().get(i).await();
            readyFrom.accept(latest.from().get(i));
        }
        latest.marks().get(latest.marks().size() - 1).await();
    }
}
