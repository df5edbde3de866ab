package io.qsync.bench.gpu;

import java.util.List;
import java.util.Map;

/** Minimal JSON writer for maps, lists, strings, numbers and booleans (the harness has no JSON library). */
final class Json {
    private Json() {}

    static String write(Object o) {
        StringBuilder sb = new StringBuilder();
        write(o, sb, "");
        return sb.append('\n').toString();
    }

    private static void write(Object o, StringBuilder sb, String ind) {
        if (o instanceof Map<?, ?> m) {
            sb.append("{");
            String in = ind + "  ";
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "\n" : ",\n")
                        .append(in)
                        .append(str(e.getKey().toString()))
                        .append(": ");
                write(e.getValue(), sb, in);
                first = false;
            }
            sb.append(first ? "}" : "\n" + ind + "}");
        } else if (o instanceof List<?> l) {
            boolean flat = l.stream().noneMatch(v -> v instanceof Map || v instanceof List);
            sb.append("[");
            String in = ind + "  ";
            for (int i = 0; i < l.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(flat ? (i == 0 ? "" : " ") : "\n" + in);
                write(l.get(i), sb, in);
            }
            sb.append(flat || l.isEmpty() ? "]" : "\n" + ind + "]");
        } else if (o instanceof Double d) {
            sb.append(Double.isFinite(d) ? String.format(java.util.Locale.ROOT, "%.6g", d) : "null");
        } else if (o instanceof Number || o instanceof Boolean) {
            sb.append(o);
        } else if (o == null) {
            sb.append("null");
        } else {
            sb.append(str(o.toString()));
        }
    }

    private static String str(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
