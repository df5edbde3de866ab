package io.qsync.lowprec.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Compares an op's output with a float64 reference: max |difference| relative to max |reference|. */
final class RelativeError {
    private RelativeError() {}

    /** Fails unless the max-norm relative error of {@code actual} against {@code ref} is at most {@code tol}. */
    static void assertClose(double[][] ref, INDArray actual, double tol, String what) {
        double maxRef = 0;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[0].length; j++) {
                maxRef = Math.max(maxRef, Math.abs(ref[i][j]));
                maxDiff = Math.max(maxDiff, Math.abs(ref[i][j] - actual.getDouble(i, j)));
            }
        }
        double rel = maxDiff / Math.max(maxRef, 1e-30);
        assertTrue(rel <= tol, what + ": relative error " + rel);
    }
}
