package io.qsync.runtime;

import java.io.Serializable;

/**
 * Where one rank's steps of an epoch went: the median of each phase over the epoch's steps after the first (which
 * records or warms up), as {@code WorkerLoop} logs them. The phases' medians need not add up to the median step; the
 * rest is "besides".
 *
 * @param batchMillis    assembling the batch from the shard
 * @param localMillis    the local gradient (forward and backward on this rank's device)
 * @param exchangeMillis the gradient exchange not hidden behind the backward pass, waiting for peers included
 * @param updateMillis   the optimizer update
 */
public record StepPhases(double batchMillis, double localMillis, double exchangeMillis, double updateMillis)
        implements Serializable {}
