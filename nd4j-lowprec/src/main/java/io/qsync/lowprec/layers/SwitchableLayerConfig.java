package io.qsync.lowprec.layers;

import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;

/**
 * What the precision-switchable layer configurations ({@link SwitchableDenseLayer}, {@link SwitchableConvolutionLayer},
 * {@link SwitchableOutputLayer}) add to their DL4J configuration classes. Each extends a different DL4J class, so they
 * share the settings by composition: each holds its INT8 settings as one immutable {@link Int8Quantizer} (clones and
 * Java serialization carry it along; clones share it safely), and the per-setting accessors below are default methods
 * that read it or replace it with a new instance. The runtime precision is not part of the configuration: it is set
 * on the instantiated layer ({@link PrecisionSwitchable}).
 *
 * <p>DL4J serializes layer configurations with Jackson through their public bean accessors, so the per-setting
 * getters and setters are the JSON properties {@code int8WeightGranularity}, {@code int8Rounding} and {@code int8Seed}:
 * the same names and values the configurations had when each class declared the three fields itself, so model zips
 * written before and after the settings were composed load alike.
 */
public interface SwitchableLayerConfig {
    /** @return the INT8 quantizer settings (QSync's defaults unless changed) */
    Int8Quantizer int8Quantizer();

    /** @param quantizer new INT8 quantizer settings (not null) */
    void setInt8Quantizer(Int8Quantizer quantizer);

    /** @return INT8 weight-scale granularity */
    default Granularity getInt8WeightGranularity() {
        return int8Quantizer().granularity();
    }

    /** @param g INT8 weight-scale granularity */
    default void setInt8WeightGranularity(Granularity g) {
        Int8Quantizer q = int8Quantizer();
        setInt8Quantizer(new Int8Quantizer(g, q.rounding(), q.seed()));
    }

    /** @return INT8 rounding mode */
    default IntRounding getInt8Rounding() {
        return int8Quantizer().rounding();
    }

    /** @param r INT8 rounding mode */
    default void setInt8Rounding(IntRounding r) {
        Int8Quantizer q = int8Quantizer();
        setInt8Quantizer(new Int8Quantizer(q.granularity(), r, q.seed()));
    }

    /** @return stochastic-rounding seed */
    default long getInt8Seed() {
        return int8Quantizer().seed();
    }

    /** @param seed stochastic-rounding seed */
    default void setInt8Seed(long seed) {
        Int8Quantizer q = int8Quantizer();
        setInt8Quantizer(new Int8Quantizer(q.granularity(), q.rounding(), seed));
    }

    /**
     * @param quantizer settings to store
     * @return {@code quantizer}
     * @throws IllegalArgumentException if it is null
     */
    static Int8Quantizer requireSettings(Int8Quantizer quantizer) {
        if (quantizer == null) {
            throw new IllegalArgumentException("INT8 quantizer settings must not be null");
        }
        return quantizer;
    }
}
