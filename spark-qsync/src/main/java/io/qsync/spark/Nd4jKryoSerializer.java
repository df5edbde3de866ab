package io.qsync.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Kryo serializer for {@link INDArray} through ND4J's own binary format ({@code Nd4j.write}/{@code Nd4j.read}).
 * Without it Spark's Kryo delivers broken arrays (a null shape-info field) rather than failing.
 */
public final class Nd4jKryoSerializer extends Serializer<INDArray> {

    @Override
    public void write(Kryo kryo, Output output, INDArray arr) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (DataOutputStream dos = new DataOutputStream(bos)) {
            Nd4j.write(arr, dos);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize INDArray", e);
        }
        byte[] bytes = bos.toByteArray();
        output.writeInt(bytes.length, true);
        output.writeBytes(bytes);
    }

    @Override
    public INDArray read(Kryo kryo, Input input, Class<INDArray> type) {
        byte[] bytes = input.readBytes(input.readInt(true));
        try (DataInputStream dis = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return Nd4j.read(dis);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot deserialize INDArray", e);
        }
    }
}
