package io.qsync.planner.replay;

import org.apache.commons.math3.special.Erf;

/**
 * How much later a synchronous step ends than its slowest worker's typical step, because every worker's step varies
 * from one step to the next and the step waits for the latest of them. Each worker's compute is taken as normal, with
 * mean {@code busy} and standard deviation {@code jitter * busy}, every two workers correlated by {@code rho} (workers
 * sharing a card, a host or a process slow down together: on a 2-core CPU host two ranks' steps moved together); the
 * expected maximum comes from Clark's moment matching (C. E. Clark, "The greatest of a finite set of random variables",
 * Operations Research 9(2), 1961), folding in one worker at a time and carrying the running maximum's correlation with
 * the workers still to come. The excess is that expectation less the largest mean: {@code σ·sqrt((1 − ρ)/π)} for two
 * equal workers, nothing when one is slower than the rest by several σ, all are steady, or they move together.
 */
final class StepJitter {
    private StepJitter() {}

    private static final double INV_SQRT_2PI = 0.3989422804014327;

    /** As {@link #excessSeconds(double[], double[], double)} for independent workers. */
    static double excessSeconds(double[] busy, double[] jitter) {
        return excessSeconds(busy, jitter, 0);
    }

    /**
     * @param busy   each worker's mean compute, seconds (workers of one type appear once per worker)
     * @param jitter each worker's step-to-step standard deviation as a fraction of its compute (0: steady)
     * @param rho    the correlation of any two workers' steps, in [-1, 1]
     * @return E[max_i] − max_i busy_i, seconds (0 for one worker or no jitter)
     */
    static double excessSeconds(double[] busy, double[] jitter, double rho) {
        if (busy.length < 2) {
            return 0;
        }
        double r = Math.max(-1, Math.min(1, rho));
        double largest = busy[0];
        double mean = busy[0];
        double sd = jitter[0] * busy[0];
        double corr = r; // of the running maximum with each worker not yet folded in
        for (int i = 1; i < busy.length; i++) {
            largest = Math.max(largest, busy[i]);
            double m = busy[i];
            double si = jitter[i] * busy[i];
            double theta = Math.sqrt(Math.max(0, sd * sd + si * si - 2 * corr * sd * si));
            if (theta < 1e-12 * Math.max(Math.abs(mean), Math.abs(m))) { // moving together: the larger one leads
                if (m > mean) {
                    mean = m;
                    sd = si;
                    corr = r;
                }
                continue;
            }
            double a = (mean - m) / theta;
            double pa = cdf(a);
            double pb = 1 - pa;
            double d = theta * INV_SQRT_2PI * Math.exp(-0.5 * a * a);
            double first = mean * pa + m * pb + d;
            double second = (mean * mean + sd * sd) * pa + (m * m + si * si) * pb + (mean + m) * d;
            double newSd = Math.sqrt(Math.max(0, second - first * first));
            corr = newSd > 0 ? Math.max(-1, Math.min(1, (sd * corr * pa + si * r * pb) / newSd)) : r;
            mean = first;
            sd = newSd;
        }
        return Math.max(0, mean - largest);
    }

    /** The standard normal CDF. */
    static double cdf(double x) {
        return 0.5 * Erf.erfc(-x / Math.sqrt(2));
    }
}
