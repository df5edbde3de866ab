package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The precisions a device type may give its switchable layers: its menu ∩ what the indicator scored, ordered from
 * the lowest to the highest precision level (mantissa bits, INT8 counted as 7; ties broken by storage size), so
 * INT8 &lt; BF16 &lt; FP16 &lt; TF32 &lt; FP32.
 */
public final class PrecisionMenu {
    /** Lowest to highest precision level. */
    public static final Comparator<Precision> LEVEL = Comparator.comparingInt(
                    (Precision p) -> p == Precision.INT8 ? 7 : p.mantissaBits())
            .thenComparingInt(Precision::storageBytes);

    private PrecisionMenu() {}

    /**
     * @param device device
     * @param graph  network
     * @param omega  indicator
     * @return the menu, lowest first
     * @throws InfeasiblePlanException naming the device and the layer if no precision is both runnable and scored
     */
    public static List<Precision> of(DeviceProfile device, LayerGraph graph, IndicatorTable omega) {
        List<Precision> menu = new ArrayList<>(device.precisions());
        for (String id : graph.switchableIds()) {
            Map<Precision, Double> scored = omega.omega().get(id);
            if (scored == null) {
                throw new InfeasiblePlanException(
                        "Indicator '" + omega.indicator() + "' has no entry for switchable layer '" + id + "' of "
                                + graph.name() + "; re-run the indicator on this model");
            }
            menu.removeIf(p -> !scored.containsKey(p));
            if (menu.isEmpty()) {
                throw new InfeasiblePlanException("Device " + device.name() + " and the indicator have no precision in "
                        + "common for layer '" + id + "': the device runs " + device.precisions()
                        + ", the indicator scored "
                        + scored.keySet()
                        + "; add one of the device's precisions to the indicator menu or use another device");
            }
        }
        menu.sort(LEVEL);
        return List.copyOf(menu);
    }
}
