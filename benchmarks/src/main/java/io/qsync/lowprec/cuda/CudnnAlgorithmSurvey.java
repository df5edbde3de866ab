package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import io.qsync.lowprec.train.ConvGeom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;

/**
 * Every cuDNN algorithm for the VGG-style CNN's six 3×3 convolutions at one batch, timed by cuDNN itself
 * ({@code cudnnFind*Algorithm}, which runs each one), beside the algorithm our heuristic rule picks
 * ({@link CudnnAlgorithms}): FP32 on FMA units, TF32, and FP16 and BF16 tensors in {@link CudnnHalfTensors}' NCHW layout and in NHWC (PyTorch's AMP layout). It
 * answers whether a deterministic algorithm faster than ours exists for a layer (RESULTS §11j: our half-size FP16
 * picks are barely faster than TF32). Lives in the CUDA package to reach the descriptors; run by
 * {@code CudaEngineBench algos}.
 */
public final class CudnnAlgorithmSurvey {
    /** The VGG-style CNN's convolutions: input channels, height = width, output channels (3×3, stride 1, pad 1). */
    private static final int[][] LAYERS = {
        {1, 28, 64}, {64, 28, 64}, {64, 14, 128}, {128, 14, 128}, {128, 7, 256}, {256, 7, 256}
    };
    /** Data type and math type per mode: FP32 (FMA), TF32, FP16, BF16. */
    private static final String[] MODES = {"FP32", "TF32", "FP16", "BF16", "FP16-NHWC", "BF16-NHWC"};

    private CudnnAlgorithmSurvey() {}

    private static int type(String mode) {
        return switch (mode) {
            case "FP16", "FP16-NHWC" -> CUDNN_DATA_HALF;
            case "BF16", "BF16-NHWC" -> CUDNN_DATA_BFLOAT16;
            default -> CUDNN_DATA_FLOAT;
        };
    }

    private static int layout(String mode) {
        return mode.endsWith("-NHWC") ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    }

    /** One row per layer, mode, operation and algorithm cuDNN reports. */
    public static List<Map<String, Object>> rows(int batch) {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (CudaTensorOps ops = CudaTensorOps.open(0, false, true);
                CudnnHandle h = new CudnnHandle(ops.stream(), new DeviceAllocator("algorithm survey", 1L << 34))) {
            for (int[] l : LAYERS) {
                ConvGeom g = new ConvGeom(l[0], l[1], l[1], 3, 3, 1, 1, 1, 1, l[1], l[1]);
                String layer = batch + "x" + l[0] + "x" + l[1] + "x" + l[1] + " -> " + l[2];
                for (String mode : MODES) {
                    cudnnConvolutionStruct fwd = new cudnnConvolutionStruct();
                    cudnnConvolutionStruct data = new cudnnConvolutionStruct();
                    cudnnConvolutionStruct filter = new cudnnConvolutionStruct();
                    int math = mode.equals("FP32") ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
                    try (CudnnDescriptors d =
                            new CudnnDescriptors(g, batch, l[2], type(mode), layout(mode), math, fwd, data, filter)) {
                        CudnnAlgorithms ours =
                                new CudnnAlgorithms(h.handle(), d.x, d.y, d.w, !mode.equals("FP32"), layer);
                        survey(rows, layer, mode, fwd, data, filter, ours, math);
                    } catch (RuntimeException e) {
                        Map<String, Object> r = new LinkedHashMap<>();
                        r.put("layer", layer);
                        r.put("mode", mode);
                        r.put("error", e.getMessage());
                        rows.add(r);
                        System.out.println("ALGO " + layer + " " + mode + " error " + e.getMessage());
                    }
                }
            }
        }
        return rows;
    }

    private static void survey(
            List<Map<String, Object>> rows,
            String layer,
            String mode,
            cudnnConvolutionStruct fwd,
            cudnnConvolutionStruct data,
            cudnnConvolutionStruct filter,
            CudnnAlgorithms ours,
            int math) {
        int ourFwd = ours.forward(fwd).algo();
        int ourData = ours.backwardData(data).algo();
        int ourFilter = ours.backwardFilter(filter).algo();
        for (cudnnConvolutionStruct c : new cudnnConvolutionStruct[] {fwd, data, filter}) {
            cudnnSetConvolutionMathType(c, math);
        }
        addAll(rows, layer, mode, "fwd", ourFwd, ours.forwardCandidates(fwd, true));
        addAll(rows, layer, mode, "bwd-data", ourData, ours.backwardDataCandidates(data, true));
        addAll(rows, layer, mode, "bwd-filter", ourFilter, ours.backwardFilterCandidates(filter, true));
    }

    private static void addAll(
            List<Map<String, Object>> rows,
            String layer,
            String mode,
            String op,
            int ours,
            List<CudnnAlgorithms.Candidate> measured) {
        for (CudnnAlgorithms.Candidate e : measured) {
            add(rows, layer, mode, op, e, e.algo() == ours);
        }
    }

    private static void add(
            List<Map<String, Object>> rows,
            String layer,
            String mode,
            String op,
            CudnnAlgorithms.Candidate e,
            boolean ours) {
        int algo = e.algo();
        int status = e.status();
        int determinism = e.determinism();
        float ms = e.ms();
        long workspace = e.workspace();
        int math = e.math();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("layer", layer);
        r.put("mode", mode);
        r.put("op", op);
        r.put("algo", algo);
        r.put("ok", status == CUDNN_STATUS_SUCCESS);
        r.put("deterministic", determinism == CUDNN_DETERMINISTIC);
        r.put("ms", ms);
        r.put("workspace", workspace);
        r.put("math", math);
        r.put("ours", ours);
        rows.add(r);
        System.out.printf(
                Locale.ROOT,
                "ALGO %-26s %-4s %-10s algo %d %s %s %8.3f ms ws %d math %d%s%n",
                layer,
                mode,
                op,
                algo,
                status == CUDNN_STATUS_SUCCESS ? "ok" : "status " + status,
                determinism == CUDNN_DETERMINISTIC ? "det" : "nondet",
                ms,
                workspace,
                math,
                ours ? "  <- ours" : "");
    }
}
