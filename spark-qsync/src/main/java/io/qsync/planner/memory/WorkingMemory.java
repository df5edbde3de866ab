package io.qsync.planner.memory;

import java.util.Map;

/**
 * What a DL4J training iteration holds besides parameters, gradients and updater state, for one plan and batch
 * size (see {@link WorkspaceLayout} for the formulas). All parts are simultaneously held at the boundary between
 * the forward and the backward pass: DL4J workspaces keep their buffers between iterations, and low-precision
 * layers keep their cached forward pass until their backward.
 *
 * @param batchSize            examples per iteration
 * @param activationsWorkspace {@code WS_ALL_LAYERS_ACT}: every layer's output, with DL4J's 5 % over-allocation
 * @param gradientWorkspaces   {@code WS_LAYER_ACT_1} + {@code WS_LAYER_ACT_2}: the largest activation gradient of
 *                             the even and of the odd layers, with 2 % over-allocation each
 * @param layerWorkspace       {@code WS_LAYER_WORKING_MEM}: the largest per-layer working memory (forward or
 *                             backward op), with 2 % over-allocation
 * @param largestLayer         id of the layer whose working memory sizes {@code layerWorkspace}
 * @param heldOutsideWorkspaces bytes low-precision layers hold outside workspaces (EMULATION: their pooled
 *                             buffers reused across iterations, i.e. each layer's saved operands and pre-activation
 *                             copy plus the scratch pool they share for im2col matrices and backward temporaries;
 *                             DEVICE: saved input and weights at p's size)
 * @param sharedScratchBytes   of {@code heldOutsideWorkspaces}, the scratch pool shared by the network's emulated
 *                             layers, counted once (EMULATION; 0 under DEVICE)
 * @param inputBatchBytes      the mini-batch itself (features and labels, FP32)
 * @param perLayerWorking      layer id → working bytes of its forward/backward op (no over-allocation)
 */
public record WorkingMemory(
        int batchSize,
        long activationsWorkspace,
        long gradientWorkspaces,
        long layerWorkspace,
        String largestLayer,
        long heldOutsideWorkspaces,
        long sharedScratchBytes,
        long inputBatchBytes,
        Map<String, Long> perLayerWorking) {
    /** Copies the map. */
    public WorkingMemory {
        perLayerWorking = Map.copyOf(perLayerWorking);
    }

    /** @return the sum of all parts except the per-layer breakdown (the shared scratch pool is part of the held bytes) */
    public long totalBytes() {
        return activationsWorkspace + gradientWorkspaces + layerWorkspace + heldOutsideWorkspaces + inputBatchBytes;
    }
}
