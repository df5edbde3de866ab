package io.qsync.lowprec;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Independent rounding reference for tests: enumerates every non-negative finite value of a float
 * format as an exact BigDecimal and picks the nearest (ties to the even encoding) by comparison.
 */
final class ReferenceFormat {
    final int mantissaBits;
    final int emin;
    final int emax;
    final boolean saturate;
    final double[] values; // sorted non-negative finite values (all exact in double)
    final BigDecimal maxFinite;
    final BigDecimal overflowMid; // max + ulp(max)/2

    ReferenceFormat(int mantissaBits, int exponentBits, boolean e4m3) {
        this.mantissaBits = mantissaBits;
        int bias = (1 << (exponentBits - 1)) - 1;
        this.emin = 1 - bias;
        this.emax = e4m3 ? (1 << exponentBits) - 1 - bias : (1 << exponentBits) - 2 - bias;
        this.saturate = e4m3;
        List<Double> v = new ArrayList<>();
        int mcount = 1 << mantissaBits;
        for (int k = 0; k < mcount; k++) {
            v.add(k * Math.pow(2, emin - mantissaBits));
        }
        for (int e = emin; e <= emax; e++) {
            for (int k = 0; k < mcount; k++) {
                if (e4m3 && e == emax && k == mcount - 1) {
                    continue; // S.1111.111 is NaN
                }
                v.add((mcount + k) * Math.pow(2, e - mantissaBits));
            }
        }
        values = v.stream().mapToDouble(Double::doubleValue).toArray();
        maxFinite = new BigDecimal(values[values.length - 1]);
        overflowMid = maxFinite.add(new BigDecimal(Math.pow(2, emax - mantissaBits - 1)));
    }

    /** Reference rounding of x. */
    float round(float x) {
        if (Float.isNaN(x)) {
            return Float.NaN;
        }
        if (Float.isInfinite(x)) {
            return saturate ? Math.copySign((float) values[values.length - 1], x) : x;
        }
        BigDecimal a = new BigDecimal(Math.abs((double) x));
        double r;
        if (a.compareTo(maxFinite) > 0) {
            if (saturate) {
                r = values[values.length - 1];
            } else {
                r = a.compareTo(overflowMid) >= 0 ? Double.POSITIVE_INFINITY : values[values.length - 1];
            }
        } else {
            int i = Arrays.binarySearch(values, Math.abs((double) x));
            if (i >= 0) {
                r = values[i];
            } else {
                int hi = -i - 1;
                int lo = hi - 1;
                BigDecimal dlo = a.subtract(new BigDecimal(values[lo]));
                BigDecimal dhi = new BigDecimal(values[hi]).subtract(a);
                int c = dlo.compareTo(dhi);
                // index parity == mantissa parity (consecutive encodings)
                r = c < 0 ? values[lo] : c > 0 ? values[hi] : (lo % 2 == 0 ? values[lo] : values[hi]);
            }
        }
        return (float) Math.copySign(r, x);
    }

    /** Test inputs: every value, every midpoint and the floats adjacent to it, both signs, overflow region. */
    float[] structuredInputs() {
        List<Float> in = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            double lo = values[i];
            double hi = i + 1 < values.length ? values[i + 1] : values[i] + Math.pow(2, emax - mantissaBits);
            float mid = (float) ((lo + hi) / 2);
            for (float f : new float[] {(float) lo, mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                in.add(f);
                in.add(-f);
            }
        }
        float[] out = new float[in.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = in.get(i);
        }
        return out;
    }
}
