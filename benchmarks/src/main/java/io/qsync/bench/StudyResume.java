package io.qsync.bench;

import io.qsync.lowprec.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an earlier {@link AccuracyReport}: the arms' plans (the plan table), the planner lines ({@code - plan …: …})
 * and the test accuracy of every finished run, so that a study stopped part-way can go on without repeating the
 * warm-up, the statistics or the finished runs.
 */
final class StudyResume {
    private StudyResume() {}

    static void read(
            Path md, Map<String, Map<String, Precision>> arms, Map<String, String> why, Map<String, List<Double>> done)
            throws IOException {
        List<String> lines = Files.readAllLines(md);
        List<String> names = new ArrayList<>();
        boolean plansTable = false;
        boolean accTable = false;
        for (String l : lines) {
            if (l.startsWith("| layer |")) {
                plansTable = true;
                for (String c : cells(l).subList(1, cells(l).size())) {
                    names.add(c);
                    arms.put(c, new LinkedHashMap<>());
                }
            } else if (l.startsWith("| arm |")) {
                accTable = true;
            } else if (!l.startsWith("|")) {
                plansTable = false;
                accTable = false;
                if (l.startsWith("- plan ") && l.contains(": ")) {
                    why.put(l.substring(2, l.indexOf(": ")), l.substring(l.indexOf(": ") + 2));
                }
            } else if (plansTable && !l.startsWith("|---") && !l.startsWith("| predicted")) {
                List<String> c = cells(l);
                for (int i = 1; i < c.size(); i++) {
                    arms.get(names.get(i - 1)).put(c.get(0), Precision.valueOf(c.get(i)));
                }
            } else if (accTable && !l.startsWith("|---")) {
                List<String> c = cells(l);
                List<Double> accs = new ArrayList<>();
                for (int i = 1; i < c.size() - 2 && !c.get(i).isEmpty(); i++) {
                    accs.add(Double.parseDouble(c.get(i)));
                }
                done.put(c.get(0), accs);
            }
        }
        if (arms.isEmpty()) {
            throw new IllegalArgumentException(
                    md + " has no plan table ('| layer | ...'): not an AccuracyStudy report");
        }
    }

    private static List<String> cells(String row) {
        List<String> out = new ArrayList<>();
        String inner = row.substring(1, row.lastIndexOf('|'));
        for (String c : inner.split("\\|", -1)) {
            out.add(c.trim());
        }
        return out;
    }
}
