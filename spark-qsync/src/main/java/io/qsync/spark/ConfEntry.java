package io.qsync.spark;

import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One typed, documented, validated {@code spark.qsync.*} setting.
 *
 * @param key          the full key
 * @param doc          what it does (rendered into {@code docs/configuration.md})
 * @param defaultValue the default, as text
 * @param parser       text to value
 * @param valid        accepts valid values
 * @param rule         the validity rule in words, used in error messages
 * @param <T>          value type
 */
public record ConfEntry<T>(
        String key, String doc, String defaultValue, Function<String, T> parser, Predicate<T> valid, String rule) {

    /** Reads the value from {@code settings} (falling back to the default), parsed and validated. */
    public T read(Map<String, String> settings) {
        String raw = settings.getOrDefault(key, defaultValue);
        T v;
        try {
            v = parser.apply(raw.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid " + key + "=" + raw + ": " + rule, e);
        }
        if (!valid.test(v)) {
            throw new IllegalArgumentException("invalid " + key + "=" + raw + ": " + rule);
        }
        return v;
    }

    /** An integer setting with a lower bound. */
    public static ConfEntry<Integer> intAtLeast(String key, int min, int def, String doc) {
        return new ConfEntry<>(
                key, doc, Integer.toString(def), Integer::parseInt, v -> v >= min, "must be an integer >= " + min);
    }

    /** A long setting. */
    public static ConfEntry<Long> longValue(String key, long def, String doc) {
        return new ConfEntry<>(key, doc, Long.toString(def), Long::parseLong, v -> true, "must be an integer");
    }

    /** A boolean setting. */
    public static ConfEntry<Boolean> bool(String key, boolean def, String doc) {
        return new ConfEntry<>(
                key,
                doc,
                Boolean.toString(def),
                s -> {
                    if (!s.equalsIgnoreCase("true") && !s.equalsIgnoreCase("false")) {
                        throw new IllegalArgumentException("not a boolean");
                    }
                    return Boolean.parseBoolean(s);
                },
                v -> true,
                "must be true or false");
    }

    /** A duration in milliseconds, written as {@code 500ms}, {@code 30s} or {@code 2m}. */
    public static ConfEntry<java.time.Duration> duration(String key, String def, String doc) {
        return new ConfEntry<>(
                key,
                doc,
                def,
                ConfEntry::parseDuration,
                d -> !d.isNegative() && !d.isZero(),
                "must be a positive duration such as 500ms, 30s or 2m");
    }

    /** A string setting. */
    public static ConfEntry<String> string(String key, String def, String doc) {
        return new ConfEntry<>(key, doc, def, s -> s, v -> true, "any text");
    }

    static java.time.Duration parseDuration(String s) {
        String t = s.toLowerCase(java.util.Locale.ROOT);
        if (t.endsWith("ms")) {
            return java.time.Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        } else if (t.endsWith("s")) {
            return java.time.Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
        } else if (t.endsWith("m")) {
            return java.time.Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000));
        }
        return java.time.Duration.ofMillis(Long.parseLong(t));
    }
}
