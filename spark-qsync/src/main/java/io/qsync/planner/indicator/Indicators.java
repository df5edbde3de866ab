package io.qsync.planner.indicator;

import java.util.List;
import java.util.Locale;

/** Looks indicators up by name. */
public final class Indicators {
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
