package io.qsync.runtime;

import java.util.SplittableRandom;

/**
 * The order in which a worker visits its rows in an epoch: the identity, or a Fisher-Yates shuffle seeded by
 * (seed, epoch, rank) so that a run is reproducible and a single-process reference can replay it.
 */
public final class EpochOrder {
    private EpochOrder() {}

    /** The visiting order of {@code count} rows; {@code null} means the identity (no shuffling). */
    public static int[] of(int count, boolean shuffle, long seed, int epoch, int rank) {
        if (!shuffle) {
            return null;
        }
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + rank);
        for (int i = count - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
