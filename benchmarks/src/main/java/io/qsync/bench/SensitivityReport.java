package io.qsync.bench;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * Collects the per-seed loss gaps of {@link SensitivityStudy} and renders the markdown report: raw numbers,
 * Spearman's ρ of each indicator against the seed-averaged gap (per precision and pooled) with its two-sided p-value
 * (t = ρ·√((n−2)/(1−ρ²)) on n − 2 degrees of freedom, Commons Math), and the per-seed ρ range. Only completed seeds
 * enter, so a report written after each seed is consistent.
 */
final class SensitivityReport {
    /** The two measures of the real effect. */
    static final String[] MEASURES = {"eval", "train"};

    private final LayerGraph graph;
    private final List<String> layers;
    private final List<Precision> precisions;
    private final Map<String, IndicatorTable> tables;
    private final int seeds;
    private final double[][] fp32;
    private final Map<String, double[][]> gaps = new LinkedHashMap<>();
    private final String model;
    private final int probes;
    private int done;

    SensitivityReport(
            LayerGraph graph,
            List<String> layers,
            List<Precision> precisions,
            Map<String, IndicatorTable> tables,
            int seeds,
            String model,
            int probes) {
        this.graph = graph;
        this.layers = layers;
        this.precisions = precisions;
        this.tables = tables;
        this.seeds = seeds;
        this.fp32 = new double[2][seeds];
        this.model = model;
        this.probes = probes;
    }

    /** @param n seeds completed so far (the report uses these) */
    void seedsDone(int n) {
        done = n;
    }

    /**
     * @param rho Spearman's ρ
     * @param n   pairs
     * @return two-sided p-value of ρ ≠ 0 (t approximation; 0 for |ρ| = 1, NaN for NaN or n ≤ 2)
     */
    static double pValue(double rho, int n) {
        if (Double.isNaN(rho) || n <= 2) {
            return Double.NaN;
        }
        if (Math.abs(rho) >= 1) {
            return 0;
        }
        double t = rho * Math.sqrt((n - 2) / (1 - rho * rho));
        return 2 * new TDistribution(n - 2).cumulativeProbability(-Math.abs(t));
    }

    void fp32(int seed, double[] evalAndTrain) {
        fp32[0][seed] = evalAndTrain[0];
        fp32[1][seed] = evalAndTrain[1];
    }

    void gap(String layer, Precision p, int seed, double evalGap, double trainGap) {
        double[][] g = gaps.computeIfAbsent(layer + "@" + p, k -> new double[2][seeds]);
        g[0][seed] = evalGap;
        g[1][seed] = trainGap;
    }

    /** ρ of indicator {@code ind} vs measure {@code m} over the given precisions, for one seed or the mean (seed -1). */
    double rho(String ind, int m, List<Precision> ps, int seed) {
        List<Double> w = new ArrayList<>();
        List<Double> g = new ArrayList<>();
        for (Precision p : ps) {
            for (String id : layers) {
                double[] x = Arrays.copyOf(gaps.get(id + "@" + p)[m], done);
                w.add(tables.get(ind).omega(id, p));
                g.add(seed < 0 ? mean(x) : x[seed]);
            }
        }
        return SensitivityStudy.spearman(toArray(w), toArray(g));
    }

    String markdown(String header) {
        StringBuilder md = new StringBuilder("# Indicator sensitivity study (Fashion-MNIST, " + model + ")\n\n");
        md.append(header);
        md.append("- Model: ")
                .append(model)
                .append(" (seed 42, Adam 1e-3) converted with SwitchableLayers.convert (")
                .append(layers.size())
                .append(" switchable layers: ")
                .append(String.join(", ", layers))
                .append("); L = ")
                .append(graph.maxDepth())
                .append("; statistics: K = 10 batches, ")
                .append(probes)
                .append(" Hutchinson probes, ε = 1e-3; seeds completed: ")
                .append(done)
                .append(" of ")
                .append(seeds)
                .append("\n\n");
        md.append("FP32 run per seed (eval loss / train loss over the tail): ");
        for (int s = 0; s < done; s++) {
            md.append(String.format(Locale.ROOT, "%.5f / %.5f; ", fp32[0][s], fp32[1][s]));
        }
        md.append("\n\n## Raw numbers\n\n| layer | depth | precision | eval gap per seed | eval mean ± sd "
                + "| train gap per seed | train mean ± sd |");
        tables.keySet().forEach(n -> md.append(' ').append(n).append(" ω |"));
        md.append("\n|---|---|---|---|---|---|---|");
        tables.keySet().forEach(n -> md.append("---|"));
        md.append('\n');
        for (Precision p : precisions) {
            for (String id : layers) {
                double[][] g = gaps.get(id + "@" + p);
                md.append("| ")
                        .append(id)
                        .append(" | ")
                        .append(graph.node(id).depth())
                        .append(" | ")
                        .append(p)
                        .append(" |");
                for (double[] all : g) {
                    double[] x = Arrays.copyOf(all, done);
                    md.append(' ');
                    for (double v : x) {
                        md.append(String.format(Locale.ROOT, "%+.5f ", v));
                    }
                    md.append(String.format(Locale.ROOT, "| %+.5f ± %.5f |", mean(x), sd(x)));
                }
                for (IndicatorTable t : tables.values()) {
                    md.append(String.format(Locale.ROOT, " %.4e |", t.omega(id, p)));
                }
                md.append('\n');
            }
        }
        for (int m = 0; m < MEASURES.length; m++) {
            md.append("\n## Spearman ρ vs the seed-averaged ")
                    .append(MEASURES[m])
                    .append(" gap\n\n| indicator |");
            precisions.forEach(p -> md.append(' ')
                    .append(p)
                    .append(" ρ (n=")
                    .append(layers.size())
                    .append("), p |"));
            md.append(" pooled ρ (n=").append(layers.size() * precisions.size()).append("), p |");
            precisions.forEach(p -> md.append(" per-seed ρ ").append(p).append(" |"));
            md.append("\n|---|");
            precisions.forEach(p -> md.append("---|---|"));
            md.append("---|\n");
            for (String ind : tables.keySet()) {
                md.append("| ").append(ind).append(" |");
                for (Precision p : precisions) {
                    double r = rho(ind, m, List.of(p), -1);
                    md.append(String.format(Locale.ROOT, " %.3f, p = %.3f |", r, pValue(r, layers.size())));
                }
                double pooled = rho(ind, m, precisions, -1);
                md.append(String.format(
                        Locale.ROOT, " %.3f, p = %.3f |", pooled, pValue(pooled, layers.size() * precisions.size())));
                for (Precision p : precisions) {
                    md.append(' ');
                    for (int s = 0; s < done; s++) {
                        md.append(String.format(Locale.ROOT, "%.2f ", rho(ind, m, List.of(p), s)));
                    }
                    md.append('|');
                }
                md.append('\n');
            }
            md.append("\nHighest mean per-precision ρ (")
                    .append(MEASURES[m])
                    .append(" gap): **")
                    .append(winner(m))
                    .append("**\n");
        }
        return md.toString();
    }

    private String winner(int m) {
        String best = null;
        double bestRho = Double.NEGATIVE_INFINITY;
        for (String ind : tables.keySet()) {
            double r = 0;
            for (Precision p : precisions) {
                r += rho(ind, m, List.of(p), -1) / precisions.size();
            }
            if (r > bestRho) {
                bestRho = r;
                best = ind;
            }
        }
        return String.format(Locale.ROOT, "%s (%.3f)", best, bestRho);
    }

    private static double[] toArray(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v / x.length;
        }
        return s;
    }

    static double sd(double[] x) {
        double m = mean(x);
        double s = 0;
        for (double v : x) {
            s += (v - m) * (v - m);
        }
        return x.length > 1 ? Math.sqrt(s / (x.length - 1)) : 0;
    }
}
