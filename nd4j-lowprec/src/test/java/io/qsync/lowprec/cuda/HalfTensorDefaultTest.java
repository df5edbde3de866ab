package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NCHW;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NHWC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Which FP16/BF16 convolution path a card takes (decided without a GPU: no native code runs). Unset, a card with
 * TF32 tensor cores keeps FP32 tensors of FP16-rounded values; a card without them (the T4, compute capability 7.5)
 * takes half-size FP16 tensors, the only kind its tensor cores multiply. {@code -Dqsync.cuda.halfTensors} decides
 * for every card when set.
 */
class HalfTensorDefaultTest {
    private static final String KEY = "qsync.cuda.halfTensors";

    @Test
    void unsetOnlyACardWithoutTf32TensorCoresTakesHalfTensors() {
        String before = System.getProperty(KEY);
        try {
            System.clearProperty(KEY);
            boolean t4 = DeviceFactsTest.card("Tesla T4", 7, 5).hasTf32();
            boolean a10 = DeviceFactsTest.card("NVIDIA A10", 8, 6).hasTf32();
            assertFalse(t4);
            assertTrue(a10 && DeviceFactsTest.card("NVIDIA H100", 9, 0).hasTf32());
            assertEquals(CUDNN_TENSOR_NCHW, CudnnConvolutions.halfLayout(t4));
            assertEquals(CudnnHalfTensors.OFF, CudnnConvolutions.halfLayout(a10));
            assertTrue(CudnnConvolutions.halfTensorsOn(t4) && !CudnnConvolutions.halfTensorsOn(a10));
            System.setProperty(KEY, "false");
            assertEquals(CudnnHalfTensors.OFF, CudnnConvolutions.halfLayout(t4), "set, it decides for the T4 too");
            System.setProperty(KEY, "NHWC");
            assertEquals(CUDNN_TENSOR_NHWC, CudnnConvolutions.halfLayout(t4));
            assertEquals(CUDNN_TENSOR_NHWC, CudnnConvolutions.halfLayout(a10));
            System.setProperty(KEY, "true");
            assertEquals(CUDNN_TENSOR_NCHW, CudnnConvolutions.halfLayout(a10));
            System.setProperty(KEY, "half");
            var e = assertThrows(IllegalArgumentException.class, () -> CudnnConvolutions.halfLayout(a10));
            assertTrue(
                    e.getMessage().contains("-Dqsync.cuda.halfTensors")
                            && e.getMessage().contains("'half'"),
                    e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(KEY);
            } else {
                System.setProperty(KEY, before);
            }
        }
    }
}
