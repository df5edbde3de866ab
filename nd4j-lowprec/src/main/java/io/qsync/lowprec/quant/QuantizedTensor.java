package io.qsync.lowprec.quant;

import io.qsync.lowprec.Precision;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A quantized tensor: {@code codes} holds the format's values (INT8 integers in [-127, 127], or FP8
 * values) stored exactly in an FP32 array, and the real value is {@code codes * scale}.
 *
 * @param codes       FP32 array of codes (exact integers for INT8, FP8 values for FP8); c order, or
 *                    f order when quantized from an f-ordered per-tensor input
 * @param scales      one scale (per tensor) or one per channel along {@code channelAxis}
 * @param channelAxis axis the per-channel scales run along, or -1 for a per-tensor scale
 * @param precision   the format of the codes ({@link Precision#INT8}, FP8 E4M3 or E5M2)
 */
public record QuantizedTensor(INDArray codes, float[] scales, int channelAxis, Precision precision) {

    /** @return true if there is a single scale for the whole tensor */
    public boolean perTensor() {
        return channelAxis < 0;
    }

    /** @return the per-tensor scale; fails for per-channel tensors */
    public float scale() {
        if (!perTensor()) {
            throw new IllegalStateException("Tensor is quantized per channel (axis " + channelAxis + "); use scales()");
        }
        return scales[0];
    }

    /** @return the scales as an FP32 vector (length 1 for per tensor) */
    public INDArray scaleVector() {
        return Nd4j.createFromArray(scales.clone());
    }

    /** @return bytes needed to store the codes in their format (scales not counted) */
    public long storageBytes() {
        return precision.bytesFor(codes.length());
    }

    /** @return a new FP32 array {@code codes * scale} (the per-element product rounded once to FP32) */
    public INDArray dequantize() {
        if (perTensor()) {
            return codes.mul(scales[0]);
        }
        INDArray s = Nd4j.createFromArray(scales.clone());
        return codes.dup('c').muli(broadcastable(s));
    }

    private INDArray broadcastable(INDArray s) {
        long[] shape = new long[codes.rank()];
        java.util.Arrays.fill(shape, 1);
        shape[channelAxis] = scales.length;
        return s.reshape(shape);
    }
}
