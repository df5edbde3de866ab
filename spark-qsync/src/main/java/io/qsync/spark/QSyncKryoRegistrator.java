package io.qsync.spark;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.serializer.KryoRegistrator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.NDArray;

/**
 * Registers {@link Nd4jKryoSerializer} for ND4J arrays. Enable with
 * {@code spark.serializer=org.apache.spark.serializer.KryoSerializer} and
 * {@code spark.kryo.registrator=io.qsync.spark.QSyncKryoRegistrator}.
 */
public final class QSyncKryoRegistrator implements KryoRegistrator {

    @Override
    public void registerClasses(Kryo kryo) {
        Nd4jKryoSerializer s = new Nd4jKryoSerializer();
        kryo.addDefaultSerializer(INDArray.class, s);
        kryo.register(NDArray.class, s);
    }
}
