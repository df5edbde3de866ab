package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a {@link DeviceProfile} into seconds. Order of preference for a layer: the measurement at the same
 * signature, batch and precision; measurements of the same signature and precision at other batch sizes (least
 * squares line in the batch size, or proportional scaling from a single one); the roofline.
 */
public final class CostModel {
    private final DeviceProfile profile;
    private final Map<String, TreeMap<Integer, LayerMeasurement>> measured = new HashMap<>();
    private final LinearCost[][] castTable;

    /** Indexes the profile's measurements. */
    public CostModel(DeviceProfile profile) {
        this.profile = profile;
        for (LayerMeasurement m : profile.layers()) {
            measured.computeIfAbsent(m.signature().key() + "|" + m.precision(), k -> new TreeMap<>())
                    .put(m.batch(), m);
        }
        Precision[] all = Precision.values();
        castTable = new LinearCost[all.length][all.length];
        double bw = profile.roofline().memoryBytesPerSec();
        for (Precision from : all) {
            for (Precision to : all) {
                LinearCost fitted = profile.casts().get(DeviceProfile.castKey(from, to));
                if (fitted == null) {
                    // memory bound: read + write, plus an amax pass for 1-byte targets
                    double perElem = from.storageBytes()
                            + to.storageBytes()
                            + (to.storageBytes() == 1 ? from.storageBytes() : 0);
                    fitted = new LinearCost(perElem / bw, profile.roofline().layerOverheadSeconds());
                }
                castTable[from.ordinal()][to.ordinal()] = fitted;
            }
        }
    }

    /** @return the profile */
    public DeviceProfile profile() {
        return profile;
    }

    /**
     * @param sig      layer
     * @param batch    examples
     * @param p        compute precision
     * @param backward true for the backward pass
     * @return predicted seconds
     */
    public double layerSeconds(LayerSignature sig, int batch, Precision p, boolean backward) {
        TreeMap<Integer, LayerMeasurement> byBatch = measured.get(sig.key() + "|" + p);
        if (byBatch != null) {
            LayerMeasurement exact = byBatch.get(batch); // the planner's usual case: no map to build
            if (exact != null) {
                return backward ? exact.backwardSeconds() : exact.forwardSeconds();
            }
            TreeMap<Integer, Double> seconds = new TreeMap<>();
            byBatch.forEach((b, m) -> seconds.put(b, backward ? m.backwardSeconds() : m.forwardSeconds()));
            return atBatch(seconds, batch);
        }
        return rooflineSeconds(sig, batch, p, backward);
    }

    /**
     * The precision whose rate and operand sizes price a layer's backward pass: INT8 and FP8 layers run their backward
     * GEMMs on FP16 operands (QSync's LP-PyTorch and our {@code LowPrecisionGemm}: INT8 codes are dequantized to FP16;
     * the FP8 backward is priced at FP16 as well, the conservative reading of its E5M2 × E4M3 GEMM), every other
     * precision runs backward in itself. Measured layer times already contain the real backward and do not use this.
     *
     * @param p the layer's forward (plan) precision
     * @return the precision its backward pass is priced at
     */
    public static Precision backwardPrecision(Precision p) {
        return switch (p) {
            case INT8, FP8_E4M3, FP8_E5M2 -> Precision.FP16;
            default -> p;
        };
    }

    /**
     * The roofline estimate alone (no measurement). The backward pass is priced at {@link #backwardPrecision}.
     *
     * @param sig      layer
     * @param batch    examples
     * @param p        compute precision
     * @param backward true for the backward pass
     * @return seconds
     */
    public double rooflineSeconds(LayerSignature sig, int batch, Precision p, boolean backward) {
        Precision q = backward ? backwardPrecision(p) : p;
        Precision rate = profile.roofline().supports(q) ? q : Precision.FP32;
        double bytes = (double) (sig.inputElements() + sig.outputElements()) * batch * q.storageBytes()
                + (double) sig.weightCount() * q.storageBytes();
        double flops = sig.forwardFlops(batch);
        double factor = backward ? 2 : 1;
        double t = profile.roofline().seconds(flops * factor, bytes * factor, rate, profile.name());
        if (profile.castPolicy() == CastPolicy.IN_LAYER
                && p != Precision.FP32
                && !profile.roofline().supports(p)) {
            // emulation: the layer rounds its input and weights itself
            t += castSeconds(Precision.FP32, p, (double) sig.inputElements() * batch)
                    + castSeconds(Precision.FP32, p, sig.weightCount());
        }
        return t;
    }

    /**
     * @param from     source precision
     * @param to       target precision
     * @param elements tensor elements
     * @return seconds to convert (0 if {@code from == to}); fitted cost if profiled, else memory-bound estimate
     *     (read + write, plus an amax pass for INT8/FP8 targets)
     */
    public double castSeconds(Precision from, Precision to, double elements) {
        if (from == to || elements <= 0) {
            return 0;
        }
        return castTable[from.ordinal()][to.ordinal()].seconds(elements);
    }

    /**
     * @param params parameters updated
     * @return optimizer step seconds
     */
    public double optimizerSeconds(long params) {
        return profile.optimizer().seconds(params);
    }

    /**
     * @param fingerprint model fingerprint (see {@code LayerGraph.fingerprint()})
     * @param batch       examples
     * @return measured framework overhead per step, scaled from another batch if needed, else 0
     */
    public double stepOverheadSeconds(String fingerprint, int batch) {
        TreeMap<Integer, Double> byBatch = new TreeMap<>();
        for (Map.Entry<String, Double> e : profile.stepOverheads().entrySet()) {
            if (e.getKey().startsWith(fingerprint + "|")) {
                byBatch.put(Integer.parseInt(e.getKey().substring(fingerprint.length() + 1)), e.getValue());
            }
        }
        return byBatch.isEmpty() ? 0 : atBatch(byBatch, batch);
    }

    /**
     * Seconds at {@code batch} from measurements by batch (not empty): the measurement at that batch, else the
     * least-squares line through several batches, else the one measurement scaled in proportion.
     */
    private static double atBatch(TreeMap<Integer, Double> byBatch, int batch) {
        Double exact = byBatch.get(batch);
        if (exact != null) {
            return exact;
        }
        if (byBatch.size() >= 2) {
            double[] x =
                    byBatch.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
            double[] y =
                    byBatch.values().stream().mapToDouble(Double::doubleValue).toArray();
            return LinearCost.fit(x, y).seconds(batch);
        }
        return byBatch.firstEntry().getValue() * batch / byBatch.firstKey();
    }
}
