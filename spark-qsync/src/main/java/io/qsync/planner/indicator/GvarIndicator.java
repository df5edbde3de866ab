package io.qsync.planner.indicator;

import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * QSync's bi-directional indicator GVAR ({@code gradient_variance_based_indicator}, reference §4.2):
 * {@code ω_l(b) = γ·(L − d_l)·fwd_b + d_l·bwd_b}, with d_l the layer's BFS depth and L the graph's max depth: a
 * forward perturbation of layer l travels through the L − d_l layers downstream of it, a backward (gradient)
 * perturbation through the d_l layers upstream. Defaults γ = 4, k = 9. FP32 scores 0.
 *
 * <p><b>INT8 and FP16, exactly as QSync's code</b> (norms not squared, S = amax/127, G = ‖∇W‖, 1/6 factor):
 * <pre>
 * e_v  = min(5, |frexp_exp(fp16(sqrt(‖v‖/D_v)))|),  e_w = same with w,  e_gv = min(5, |frexp_exp(fp16(max|∇W|))|)
 * fwd_8  = (‖w‖·S_v²·D_v + ‖v‖·S_w²·D_w) / 6
 * bwd_8  = (G·S_v²·D_v + ‖v‖·2^(2e_v)·2^(−2k)·D_vv) / 6          (INT8 layers run backward in FP16)
 * fwd_16 = 2^(−2k)·(‖w‖·D_v·e_v + ‖v‖·D_w·e_w) / 6
 * bwd_16 = 2^(−2k)·(G·D_v·e_v + ‖v‖·D_vv·e_gv) / 6
 * </pre>
 *
 * <p><b>Extension to TF32, BF16, FP8 (same reasoning, each format's bits).</b> Round-to-nearest in a float format
 * with m explicit mantissa bits has relative error ≤ 2^(−m−1), so its error variance scales as 2^(−2m); QSync's
 * FP16 term uses k = 9 for m = 10, i.e. {@code k_f = k + (m_f − 10)} = m_f − 1: TF32 9, BF16 6, E4M3 2, E5M2 1.
 * The exponent proxy e = |frexp exponent| of the value represented in the format is capped by QSync at 5, FP16's
 * exponent width; the cap generalises to the format's exponent bits (TF32/BF16 8, E4M3 4, E5M2 5). Our FP8 kernels
 * scale each tensor by {@code maxFinite/amax} before rounding, so for FP8 the proxy value is scaled the same way
 * ({@code amax_v = 127·S_v}, {@code amax_w = 127·S_w}, {@code amax_∇ = max|∇W|}). Forward terms use the forward
 * format f; the gradient-rounding term of the backward uses the format g the layer rounds dY to (FP8_E4M3 uses
 * E5M2 in backward, Transformer Engine's hybrid recipe; every other float format uses itself):
 * <pre>
 * fwd_f = 2^(−2k_f)·(‖w‖·D_v·e_v^f + ‖v‖·D_w·e_w^f) / 6
 * bwd_f = (2^(−2k_f)·G·D_v·e_v^f + 2^(−2k_g)·‖v‖·D_vv·e_gv^g) / 6
 * </pre>
 * For FP16 this is QSync's formula term for term. <b>TF32</b> has FP16's 10 mantissa bits and FP32's exponent range,
 * so its rounding error never exceeds FP16's; the wider exponent cap (8 instead of 5) would still let the proxy score
 * it above FP16, so each TF32 term is the smaller of its own and FP16's: TF32 never scores worse than FP16.
 *
 * <p><b>QSync bugs fixed</b>: depths come from a BFS over the real layer graph (QSync assigns them by ordinal
 * per op type and, for CNNs, not at all since {@code load_and_set_depth} is commented out, which zeroes both
 * factors of the first and last layer and every factor of an undeclared depth); the statistics are averaged
 * over all K batches (QSync drops the first); the one-input branch that reads an undefined variable does not
 * exist (only layers with weights are scored). The norms stay unsquared as in QSync's code.
 */
public final class GvarIndicator implements Indicator {
    /** QSync's default γ (weight of the forward part). */
    public static final double DEFAULT_GAMMA = 4.0;
    /** QSync's k for FP16. */
    public static final int DEFAULT_K = 9;

    private final double gamma;
    private final int k;

    /** GVAR with γ = 4, k = 9. */
    public GvarIndicator() {
        this(DEFAULT_GAMMA, DEFAULT_K);
    }

    /**
     * @param gamma weight of the forward term (γ ≥ 0)
     * @param k     mantissa exponent used for FP16 (other float formats shift it by their mantissa width)
     */
    public GvarIndicator(double gamma, int k) {
        if (!(gamma >= 0)) {
            throw new IllegalArgumentException("GVAR gamma must be >= 0, got " + gamma);
        }
        this.gamma = gamma;
        this.k = k;
    }

    @Override
    public String name() {
        return "gvar";
    }

    @Override
    public IndicatorTable compute(ModelStatistics stats, LayerGraph graph, Collection<Precision> menu) {
        Map<String, Map<Precision, Double>> out = new LinkedHashMap<>();
        int maxDepth = graph.maxDepth();
        for (LayerStatistics s : stats.layers().values()) {
            LayerNode node = graph.node(s.layerId());
            Map<Precision, Double> row = new EnumMap<>(Precision.class);
            for (Precision p : menu) {
                row.put(p, omega(s, node.depth(), maxDepth, p));
            }
            out.put(s.layerId(), row);
        }
        return new IndicatorTable(name(), out);
    }

    /**
     * @param s        layer statistics
     * @param depth    d_l
     * @param maxDepth L
     * @param p        precision
     * @return {@code γ·(L − d)·fwd_p + d·bwd_p}
     */
    public double omega(LayerStatistics s, int depth, int maxDepth, Precision p) {
        if (depth < 0 || depth > maxDepth) {
            throw new IllegalArgumentException(
                    "Depth " + depth + " of layer " + s.layerId() + " outside [0, " + maxDepth + "]");
        }
        if (p == Precision.FP32) {
            return 0.0;
        }
        return gamma * (maxDepth - depth) * forward(s, p) + depth * backward(s, p);
    }

    /**
     * @param s statistics
     * @param p precision
     * @return fwd_p (0 for FP32)
     */
    public double forward(LayerStatistics s, Precision p) {
        if (p == Precision.FP32) {
            return 0.0;
        }
        if (p == Precision.TF32) {
            return Math.min(floatForward(s, Precision.TF32), floatForward(s, Precision.FP16));
        }
        if (p == Precision.INT8) {
            return (s.normW() * s.sV() * s.sV() * s.dV() + s.normV() * s.sW() * s.sW() * s.dW()) / 6.0;
        }
        return floatForward(s, p);
    }

    private double floatForward(LayerStatistics s, Precision p) {
        double ev = exponentProxy(Math.sqrt(s.normV() / s.dV()), 127 * s.sV(), p);
        double ew = exponentProxy(Math.sqrt(s.normW() / s.dW()), 127 * s.sW(), p);
        return Math.pow(2, -2.0 * kOf(p)) * (s.normW() * s.dV() * ev + s.normV() * s.dW() * ew) / 6.0;
    }

    /**
     * @param s statistics
     * @param p precision
     * @return bwd_p (0 for FP32)
     */
    public double backward(LayerStatistics s, Precision p) {
        if (p == Precision.FP32) {
            return 0.0;
        }
        double g = s.gradNorm() > 0 ? s.gradNorm() : 1.0;
        if (p == Precision.INT8) {
            double ev = exponentProxy(Math.sqrt(s.normV() / s.dV()), 127 * s.sV(), Precision.FP16);
            return (g * s.sV() * s.sV() * s.dV() + s.normV() * Math.pow(2, 2 * ev) * Math.pow(2, -2.0 * k) * s.dVV())
                    / 6.0;
        }
        if (p == Precision.TF32) {
            return Math.min(floatBackward(s, Precision.TF32, g), floatBackward(s, Precision.FP16, g));
        }
        return floatBackward(s, p, g);
    }

    private double floatBackward(LayerStatistics s, Precision p, double g) {
        Precision bwd = backwardFormat(p);
        double ev = exponentProxy(Math.sqrt(s.normV() / s.dV()), 127 * s.sV(), p);
        double egv = exponentProxy(s.gradMaxAbs(), s.gradMaxAbs(), bwd);
        return (Math.pow(2, -2.0 * kOf(p)) * g * s.dV() * ev + Math.pow(2, -2.0 * kOf(bwd)) * s.normV() * s.dVV() * egv)
                / 6.0;
    }

    /**
     * @param p a float precision
     * @return k_p = k + (mantissa bits − 10)
     */
    int kOf(Precision p) {
        return k + p.mantissaBits() - Precision.FP16.mantissaBits();
    }

    /**
     * @param p layer precision
     * @return the float format the layer rounds incoming gradients to in backward
     */
    static Precision backwardFormat(Precision p) {
        return switch (p) {
            case INT8 -> Precision.FP16;
            case FP8_E4M3 -> Precision.FP8_E5M2;
            default -> p;
        };
    }

    /**
     * QSync's exponent proxy {@code min(cap, |frexp_exp(round_f(x))|)}, cap = the format's exponent bits (5 for FP16);
     * FP8 formats first scale x by {@code maxFinite/amax} as their per-tensor quantizer does.
     *
     * @param x    value
     * @param amax the tensor's max |value| (used only for FP8 scaling)
     * @param f    float format
     * @return the proxy (0 for x = 0)
     */
    static double exponentProxy(double x, double amax, Precision f) {
        double scaled = x;
        if ((f == Precision.FP8_E4M3 || f == Precision.FP8_E5M2) && amax > 0) {
            scaled = x * f.maxFinite() / amax;
        }
        float r = FloatRounding.round(f, (float) scaled);
        int e = frexpExponent(r);
        return Math.min(f.exponentBits(), Math.abs(e));
    }

    /**
     * @param x value
     * @return e with {@code x = m·2^e}, {@code 0.5 ≤ |m| < 1} (numpy/C frexp); 0 for 0, infinities and NaN
     */
    static int frexpExponent(double x) {
        if (x == 0 || Double.isNaN(x) || Double.isInfinite(x)) {
            return 0;
        }
        return Math.getExponent(x) + 1;
    }
}
