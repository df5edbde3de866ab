package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import java.util.List;
import java.util.Locale;

/** Looks indicators up by name. */
public final class Indicators {
    /** Every precision a plan can choose, lowest first: the menu indicators are computed for. */
    public static final List<Precision> ALL_PRECISIONS =
            List.of(Precision.INT8, Precision.FP8_E4M3, Precision.BF16, Precision.FP16, Precision.TF32, Precision.FP32);

    private Indicators() {}

    /** @return GVAR (γ=4, k=9), WVAR and HESS */
    public static List<Indicator> all() {
        return List.of(new GvarIndicator(), new WvarIndicator(), new HessianIndicator());
    }

    /**
     * @param name {@code gvar}, {@code wvar} or {@code hess} (case-insensitive)
     * @return the indicator with default settings
     * @throws IllegalArgumentException naming the known indicators
     */
    public static Indicator byName(String name) {
        for (Indicator i : all()) {
            if (i.name().equals(name.toLowerCase(Locale.ROOT))) {
                return i;
            }
        }
        throw new IllegalArgumentException("Unknown indicator '" + name + "'; use one of gvar, wvar, hess");
    }
}
