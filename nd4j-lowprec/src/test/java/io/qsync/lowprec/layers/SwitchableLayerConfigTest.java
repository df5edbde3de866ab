package io.qsync.lowprec.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/** The INT8 settings composed into the switchable layer configurations: accessors, JSON, Java serialization. */
class SwitchableLayerConfigTest {
    private static final Int8Quantizer CUSTOM = new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.STOCHASTIC, 9L);

    private static Int8Quantizer custom(long seed) {
        return new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, seed);
    }

    private static MultiLayerNetwork net() {
        return SwitchableLayers.convert(SwitchableLayersTest.builtInCnn());
    }

    @Test
    void perSettingAccessorsReplaceTheImmutableSettings() {
        SwitchableLayerConfig conv =
                (SwitchableLayerConfig) net().getLayer(0).conf().getLayer();
        assertSame(Int8Quantizer.QSYNC_DEFAULT, conv.int8Quantizer());
        conv.setInt8WeightGranularity(Granularity.PER_CHANNEL);
        conv.setInt8Rounding(IntRounding.STOCHASTIC);
        conv.setInt8Seed(9L);
        assertEquals(CUSTOM, conv.int8Quantizer());
        assertEquals(IntRounding.STOCHASTIC, conv.getInt8Rounding());
        assertEquals(
                Granularity.PER_TENSOR, Int8Quantizer.QSYNC_DEFAULT.granularity(), "the shared default is untouched");
        assertThrows(IllegalArgumentException.class, () -> conv.setInt8Quantizer(null));
        SwitchableOutputLayer out =
                (SwitchableOutputLayer) net().getLayer(4).conf().getLayer();
        out.setInt8Quantizer(CUSTOM);
        assertEquals(CUSTOM, ((SwitchableOutputLayer) out.clone()).int8Quantizer());
    }

    @Test
    void jsonKeepsTheFormerPropertiesAndRoundTripsEveryLayerKind() {
        MultiLayerNetwork n = net();
        for (int i : new int[] {0, 2, 3, 4}) {
            ((SwitchableLayerConfig) n.getLayer(i).conf().getLayer()).setInt8Quantizer(custom(i));
        }
        String json = n.getLayerWiseConfigurations().toJson();
        // the names and values the three fields had before the settings were composed: old zips load, new ones too
        assertTrue(json.contains("\"int8WeightGranularity\" : \"PER_CHANNEL\""), json);
        assertTrue(json.contains("\"int8Rounding\" : \"NEAREST\""), json);
        assertTrue(json.contains("\"int8Seed\" : 3"), json);
        assertFalse(json.contains("int8Quantizer"), "no second copy of the settings");
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        for (int i : new int[] {0, 2, 3, 4}) {
            assertEquals(custom(i), ((SwitchableLayerConfig) back.getConf(i).getLayer()).int8Quantizer());
        }
    }

    @Test
    void javaSerializationKeepsTheSettings() throws IOException, ClassNotFoundException {
        SwitchableDenseLayer dense =
                (SwitchableDenseLayer) net().getLayer(3).conf().getLayer();
        dense.setInt8Quantizer(CUSTOM);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bos)) {
            out.writeObject(dense);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bos.toByteArray()))) {
            assertEquals(CUSTOM, ((SwitchableDenseLayer) in.readObject()).int8Quantizer());
        }
    }
}
