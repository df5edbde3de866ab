package io.qsync.profile;

/**
 * An arithmetic mean updated one sample at a time: {@code m_n = m_(n-1) + (x_n − m_(n-1)) / n}. Unlike
 * QSync's {@code calculate_running_avg}, which starts with count 0 and so overwrites the first sample
 * with the second, every sample counts equally.
 */
final class RunningMean {
    private double mean;
    private int count;

    /** @param x next sample */
    void add(double x) {
        count++;
        mean += (x - mean) / count;
    }

    /** @return the mean of the samples so far (0 if none) */
    double mean() {
        return mean;
    }

    /** @return number of samples */
    int count() {
        return count;
    }
}
