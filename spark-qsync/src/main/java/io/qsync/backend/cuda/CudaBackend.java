package io.qsync.backend.cuda;

import io.qsync.lowprec.cuda.CudaDevice;
import io.qsync.lowprec.cuda.CudaException;
import io.qsync.lowprec.cuda.CudaTensorOps;
import io.qsync.lowprec.cuda.DeviceCapacityException;
import io.qsync.lowprec.cuda.DeviceFacts;
import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.TrainingBackend;
import io.qsync.runtime.TrainingEngine;
import io.qsync.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Model;

/**
 * {@code spark.qsync.backend=cuda}: the network compiled to a {@link Program} and trained device-resident by a
 * {@link ProgramEngine} on {@link CudaTensorOps} (NVRTC kernels, cuBLASLt GEMMs, one stream), with the request's
 * precision plan on dense and convolution layers. Usable when this process sees an NVIDIA driver and the CUDA 13
 * presets; preferred over the CPU backend by {@code auto}.
 */
public final class CudaBackend implements TrainingBackend {
    /** The backend's name. */
    public static final String NAME = "cuda";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.ofNullable(io.qsync.lowprec.cuda.CudaPresence.whyUnavailable());
    }

    /** A GPU worker's ordinal where NCCL can run in this process ({@link io.qsync.lowprec.cuda.NcclPresence}). */
    @Override
    public int hostCollectiveDevice(String deviceKind, int ordinal) {
        return "gpu".equals(deviceKind) && ordinal >= 0 && io.qsync.lowprec.cuda.NcclPresence.whyUnavailable() == null
                ? ordinal
                : -1;
    }

    /**
     * NCCL's unique id for the host's CUDA workers, or empty when NCCL cannot run in this process
     * ({@link io.qsync.lowprec.cuda.NcclPresence}: no device, or {@code libnccl.so.2} not on the library path); the
     * TCP ring then serves every worker.
     */
    @Override
    public Optional<byte[]> newHostCollectiveId() {
        if (io.qsync.lowprec.cuda.NcclPresence.whyUnavailable() != null) {
            return Optional.empty();
        }
        return Optional.of(io.qsync.lowprec.cuda.NcclGroup.uniqueId());
    }

    /** Joins the host's NCCL communicator ({@link NcclCommunicator}). */
    @Override
    public io.qsync.comm.Communicator joinHostCollective(
            byte[] id, int localRank, int localSize, int deviceOrdinal, io.qsync.comm.CommConfig config) {
        String why = io.qsync.lowprec.cuda.NcclPresence.whyUnavailable();
        if (why != null) {
            throw new io.qsync.comm.CommException(
                    "rank " + localRank + " of " + localSize + " cannot join the host's NCCL collective: " + why);
        }
        return NcclCommunicator.join(id, localRank, localSize, deviceOrdinal, config);
    }

    /**
     * What keeps this backend from training the request: unsupported layers and settings, and where this process sees
     * the card, a card CUDA 13 does not support or planned precisions it cannot run ({@code auto} then takes the CPU).
     */
    @Override
    public List<String> unsupported(EngineRequest request) {
        DeviceFacts card = null;
        List<String> out = new ArrayList<>();
        if (unavailableReason().isEmpty()) {
            try (CudaDevice d = CudaDevice.open(Math.max(0, request.device()))) {
                card = d.facts();
            } catch (RuntimeException | LinkageError e) {
                out.add("cannot open CUDA device " + Math.max(0, request.device()) + ": " + e.getMessage());
            }
        }
        out.addAll(unsupported(request, card));
        return out;
    }

    /** As {@link #unsupported(EngineRequest)} against {@code card}'s facts (null: the network and plan alone). */
    static List<String> unsupported(EngineRequest request, DeviceFacts card) {
        List<String> out = new ArrayList<>();
        if (card != null && card.whyUnsupported() != null) {
            out.add(card.whyUnsupported());
        }
        try {
            out.addAll(ProgramCompiler.problems(planned(request), card == null ? p -> null : card::whyCannotRun));
        } catch (UnsupportedModelException e) {
            out.addAll(e.problems());
        }
        return out;
    }

    /**
     * The network the engine compiles: the request's model with its precision plan applied (ids as the CPU backend
     * reads them).
     *
     * @throws UnsupportedModelException when the plan asks for a precision a layer cannot run
     */
    public static Model planned(EngineRequest request) {
        Model model = request.model().restore();
        if (request.plan() == null || request.plan().layers().isEmpty()) {
            return model;
        }
        try {
            return request.plan().applyToSwitchableCopy(model);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(NAME, List.of(e.getMessage()));
        }
    }

    /**
     * Compiles the network (every unsupported part, and every planned precision the card cannot run, such as FP8
     * before compute capability 8.9, listed before any device memory is taken), opens the device and
     * runs one step on a zero batch of {@code request.batchSize()} rows so that all device memory is taken at once.
     *
     * @throws IllegalStateException naming the batch size when the device runs out of memory
     */
    @Override
    public TrainingEngine open(EngineRequest request) {
        unavailableReason().ifPresent(why -> {
            throw new IllegalStateException("spark.qsync.backend=cuda cannot run in this process: " + why);
        });
        Model model = planned(request);
        // every unsupported part, precisions this card cannot run among them, named before any device memory is taken
        try (CudaDevice device = CudaDevice.open(Math.max(0, request.device()))) {
            String old = device.facts().whyUnsupported();
            if (old != null) {
                throw new UnsupportedModelException(NAME, List.of(old));
            }
            ProgramCompiler.compile(model, NAME, device.facts()::whyCannotRun);
        }
        TensorOps ops = CudaTensorOps.open(request.device(), false);
        ProgramEngine engine = null;
        try {
            engine = ProgramEngine.open(model, ops, NAME, request.batchSize());
            engine.takeMemoryFor(request.batchSize());
            org.slf4j.LoggerFactory.getLogger(CudaBackend.class)
                    .info("cuda engine on {}: {}", engine.device(), engine.convolutionPath());
            return engine;
        } catch (RuntimeException e) {
            try {
                if (engine != null) {
                    engine.close();
                } else {
                    ops.close();
                }
            } catch (RuntimeException closing) {
                e.addSuppressed(closing); // the first failure is the one to report
            }
            if (cannotHold(e)) {
                throw new IllegalStateException(
                        "the cuda backend cannot hold a local batch of "
                                + request.batchSize() + " examples with precision plan "
                                + (request.plan() == null
                                        ? "all FP32"
                                        : request.plan().layers()) + " ("
                                + e.getMessage()
                                + "); lower the batch size (spark.qsync.batchSize) "
                                + "or use fewer layers at FP32 in the plan",
                        e);
            }
            throw e;
        }
    }

    /**
     * Whether a failure to open an engine means the batch (with its plan) does not fit: the device or an allocator's
     * limit ran out of memory, or a tensor or host buffer was refused for its size, anywhere in the cause chain.
     */
    static boolean cannotHold(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DeviceCapacityException || t instanceof CudaException c && c.outOfMemory()) {
                return true;
            }
        }
        return false;
    }
}
