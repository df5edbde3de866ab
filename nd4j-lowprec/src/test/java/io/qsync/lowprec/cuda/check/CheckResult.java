package io.qsync.lowprec.cuda.check;

/**
 * One GPU-vs-CPU-emulation comparison.
 *
 * @param name       what was compared
 * @param metric     "mismatches" (bit-exact comparison) or "relErr" (‖gpu−ref‖/‖ref‖)
 * @param value      mismatch count or relative error
 * @param tolerance  largest passing value
 * @param nans       NaNs in the GPU output
 * @param unwritten  output elements still holding the poison pattern
 * @param elements   output elements compared
 */
public record CheckResult(
        String name, String metric, double value, double tolerance, int nans, int unwritten, long elements) {
    /** @return true when within tolerance, no NaN and every element written */
    public boolean pass() {
        return value <= tolerance && nans == 0 && unwritten == 0 && !Double.isNaN(value);
    }

    /** @return one table row */
    public String row() {
        return String.format(
                "| %s | %s | %.3g | %.0g | %d | %d | %d | %s |",
                name, metric, value, tolerance, nans, unwritten, elements, pass() ? "PASS" : "FAIL");
    }
}
