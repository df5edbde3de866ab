package io.qsync.backend.cuda;

import io.qsync.lowprec.Precision;
import java.util.List;
import java.util.Map;

/** Precision plans the program-engine checks run: every lowered precision on every switchable layer type. */
final class PlanCases {
    private PlanCases() {}

    /** The demo CNN (conv_0, conv_1, dense_0; output_0 stays FP32 as in QSync). */
    static final List<Map<String, Precision>> DEMO_CNN = List.of(
            Map.of("conv_0", Precision.INT8, "conv_1", Precision.FP16, "dense_0", Precision.BF16),
            Map.of("conv_0", Precision.FP8_E4M3, "conv_1", Precision.TF32, "dense_0", Precision.INT8),
            Map.of("conv_0", Precision.BF16, "conv_1", Precision.INT8, "dense_0", Precision.FP16),
            Map.of("conv_0", Precision.TF32, "conv_1", Precision.FP8_E4M3, "dense_0", Precision.FP8_E4M3));

    /** One lowered layer at a time (a mixed plan's difference, layer by layer). */
    static final List<Map<String, Precision>> ONE_LAYER = List.of(
            Map.of("conv_0", Precision.FP8_E4M3),
            Map.of("conv_1", Precision.TF32),
            Map.of("dense_0", Precision.INT8),
            Map.of("conv_1", Precision.FP8_E4M3),
            Map.of("dense_0", Precision.FP8_E4M3));

    /**
     * Runs every {@link #DEMO_CNN} plan on fresh ops against the CPU emulation ({@link EngineParity#run}), prints each
     * result under {@code what}, and hands it to {@code check} with its plan's layers.
     */
    static void runDemoCnnPlans(
            String what,
            java.util.function.Supplier<io.qsync.lowprec.train.TensorOps> ops,
            int rows,
            java.util.function.BiConsumer<Map<String, Precision>, EngineParity.Result> check) {
        runDemoCnnPlans(DEMO_CNN, what, ops, rows, check);
    }

    /** As {@link #runDemoCnnPlans(String, java.util.function.Supplier, int, java.util.function.BiConsumer)} over {@code plans}. */
    static void runDemoCnnPlans(
            List<Map<String, Precision>> plans,
            String what,
            java.util.function.Supplier<io.qsync.lowprec.train.TensorOps> ops,
            int rows,
            java.util.function.BiConsumer<Map<String, Precision>, EngineParity.Result> check) {
        for (Map<String, Precision> layers : plans) {
            io.qsync.lowprec.layers.PrecisionPlan plan = new io.qsync.lowprec.layers.PrecisionPlan(layers);
            EngineParity.Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    java.time.Duration.ofMinutes(3),
                    () -> EngineParity.run(io.qsync.models.DemoModels.fashionCnn(7, 1e-3), plan, ops.get(), rows, 5));
            System.out.println(what + " vs CPU emulation, demo CNN " + layers + ", batch " + rows + ": " + r);
            check.accept(layers, r);
        }
    }
}
