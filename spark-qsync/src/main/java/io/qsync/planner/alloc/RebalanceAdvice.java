package io.qsync.planner.alloc;

import java.util.List;
import java.util.Map;

/**
 * Whether to keep the quantized plan, rebalance batches instead (LB-BSP-style "DB", no quantization), or leave a
 * device type out, at the same global batch.
 *
 * @param decision              {@code QSYNC}, {@code DB} or {@code LEAVE_OUT:<type>}
 * @param qsyncSamplesPerSec    throughput of the quantized plan at equal batches
 * @param dbSamplesPerSec       throughput of batch rebalancing at each type's highest precision
 * @param dbBatches             per-worker batch of each type under DB (0 = that type gets no work)
 * @param leaveOutSamplesPerSec throughput when each type is left out (others rebalanced, highest precision)
 * @param reason                why, with the numbers
 * @param options               one readable line per option
 */
public record RebalanceAdvice(
        String decision,
        double qsyncSamplesPerSec,
        double dbSamplesPerSec,
        Map<String, Integer> dbBatches,
        Map<String, Double> leaveOutSamplesPerSec,
        String reason,
        List<String> options) {
    /** Copies the collections. */
    public RebalanceAdvice {
        dbBatches = Map.copyOf(dbBatches);
        leaveOutSamplesPerSec = Map.copyOf(leaveOutSamplesPerSec);
        options = List.copyOf(options);
    }
}
