package io.qsync.spark.ml;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** A short {@code explainParams()}: one line per param, long values (the network JSON) abbreviated. */
final class MlParams {
    private static final int MAX_VALUE = 60;

    private MlParams() {}

    static String explain(Params p) {
        StringBuilder sb = new StringBuilder();
        for (Param<?> param : p.params()) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(param.name()).append(": ").append(param.doc());
            if (p.hasDefault(param)) {
                sb.append(" (default: ").append(shorten(p.getDefault(param).get()));
                sb.append(p.isSet(param) ? ", current: " + shorten(p.get(param).get()) + ")" : ")");
            } else {
                sb.append(p.isSet(param) ? " (current: " + shorten(p.get(param).get()) + ")" : " (undefined)");
            }
        }
        return sb.toString();
    }

    private static String shorten(Object v) {
        String s = String.valueOf(v).replaceAll("\\s+", " ");
        return s.length() <= MAX_VALUE ? s : s.substring(0, MAX_VALUE) + "… (" + s.length() + " characters)";
    }
}
