package io.qsync.planner.replay;

import org.apache.commons.math3.special.Erf;

/**
 * How much later a synchronous step ends than its slowest worker's typical step, because every worker's step varies
 * from one step to the next and the step waits for the latest of them. Each worker's compute is taken as independent
 * and normal, with mean {@code busy} and standard deviation {@code jitter * busy}; the expected maximum of all of them
 * comes from Clark's moment matching (C. E. Clark, "The greatest of a finite set of random variables", Operations
 * Research 9(2), 1961), folding in one worker at a time. The excess is that expectation less the largest mean: about
 * 0.56 σ for two equal workers, nothing when one is slower than the rest by several σ or all are steady.
 */
final class StepJitter {
    private StepJitter() {}

    private static final double INV_SQRT_2PI = 0.3989422804014327;

    /**
     * @param busy   each worker's mean compute, seconds (workers of one type appear once per worker)
     * @param jitter each worker's step-to-step standard deviation as a fraction of its compute (0: steady)
     * @return E[max_i] − max_i busy_i, seconds (0 for one worker or no jitter)
     */
    static double excessSeconds(double[] busy, double[] jitter) {
        if (busy.length < 2) {
            return 0;
        }
        double largest = busy[0];
        double mean = busy[0];
        double var = sq(jitter[0] * busy[0]);
        for (int i = 1; i < busy.length; i++) {
            largest = Math.max(largest, busy[i]);
            double m = busy[i];
            double v = sq(jitter[i] * busy[i]);
            double theta = Math.sqrt(var + v);
            if (theta == 0) {
                if (m > mean) {
                    mean = m;
                    var = v;
                }
                continue;
            }
            double a = (mean - m) / theta;
            double pa = cdf(a);
            double pb = 1 - pa;
            double d = theta * INV_SQRT_2PI * Math.exp(-0.5 * a * a);
            double first = mean * pa + m * pb + d;
            double second = (mean * mean + var) * pa + (m * m + v) * pb + (mean + m) * d;
            mean = first;
            var = Math.max(0, second - first * first);
        }
        return Math.max(0, mean - largest);
    }

    private static double sq(double x) {
        return x * x;
    }

    /** The standard normal CDF. */
    static double cdf(double x) {
        return 0.5 * Erf.erfc(-x / Math.sqrt(2));
    }
}
