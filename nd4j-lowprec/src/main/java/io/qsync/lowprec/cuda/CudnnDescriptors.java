package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import io.qsync.lowprec.train.ConvGeom;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;

/**
 * The cuDNN descriptors of one convolution in NCHW (or NHWC): x, y and w of one data type, and as many convolution descriptors
 * (padding, stride, cross-correlation, FP32 compute type) as the caller asks for, each with its math type. All are
 * destroyed by {@link #close}, also when set-up fails half way (the constructor then closes what it made).
 */
final class CudnnDescriptors implements AutoCloseable {
    final cudnnTensorStruct x = new cudnnTensorStruct();
    final cudnnTensorStruct y = new cudnnTensorStruct();
    final cudnnFilterStruct w = new cudnnFilterStruct();
    private final List<Runnable> undo = new ArrayList<>();

    /**
     * @param type {@code CUDNN_DATA_FLOAT}, {@code _HALF} or {@code _BFLOAT16}, for x, y and w
     * @param convs convolution descriptors to create and set up
     * @param math the math type of every one of {@code convs}
     * @throws CudaException naming the call cuDNN refused
     */
    CudnnDescriptors(ConvGeom g, int batch, int nOut, int type, int math, cudnnConvolutionStruct... convs) {
        this(g, batch, nOut, type, CUDNN_TENSOR_NCHW, math, convs);
    }

    /**
     * @param layout {@code CUDNN_TENSOR_NCHW} or {@code CUDNN_TENSOR_NHWC}, for x, y and w
     * @see #CudnnDescriptors(ConvGeom, int, int, int, int, cudnnConvolutionStruct...)
     */
    CudnnDescriptors(ConvGeom g, int batch, int nOut, int type, int layout, int math, cudnnConvolutionStruct... convs) {
        try {
            check("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(x));
            undo.add(() -> cudnnDestroyTensorDescriptor(x));
            check("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(y));
            undo.add(() -> cudnnDestroyTensorDescriptor(y));
            check("cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(w));
            undo.add(() -> cudnnDestroyFilterDescriptor(w));
            for (cudnnConvolutionStruct c : convs) {
                check("cudnnCreateConvolutionDescriptor", cudnnCreateConvolutionDescriptor(c));
                undo.add(() -> cudnnDestroyConvolutionDescriptor(c));
                // FP32 compute type for every data type: FP16/BF16 data then accumulate in FP32 (PSEUDO_HALF)
                check(
                        "cudnnSetConvolution2dDescriptor",
                        cudnnSetConvolution2dDescriptor(
                                c,
                                g.padTop(),
                                g.padLeft(),
                                g.sh(),
                                g.sw(),
                                1,
                                1,
                                CUDNN_CROSS_CORRELATION,
                                CUDNN_DATA_FLOAT));
                check("cudnnSetConvolutionMathType", cudnnSetConvolutionMathType(c, math));
            }
            check(
                    "cudnnSetTensor4dDescriptor(x, type " + type + ")",
                    cudnnSetTensor4dDescriptor(x, layout, type, batch, g.c(), g.h(), g.w()));
            check(
                    "cudnnSetTensor4dDescriptor(y, type " + type + ")",
                    cudnnSetTensor4dDescriptor(y, layout, type, batch, nOut, g.oh(), g.ow()));
            check(
                    "cudnnSetFilter4dDescriptor(type " + type + ")",
                    cudnnSetFilter4dDescriptor(w, type, layout, nOut, g.c(), g.kh(), g.kw()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static void check(String call, int rc) {
        CudnnHandle.check(call, rc);
    }

    @Override
    public void close() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            undo.get(i).run();
        }
        undo.clear();
    }
}
