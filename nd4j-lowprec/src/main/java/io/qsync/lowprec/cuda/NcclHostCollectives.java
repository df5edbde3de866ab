package io.qsync.lowprec.cuda;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.Objects;

/**
 * Collectives of host data over an {@link NcclGroup}: each call copies its data into page-locked memory, uploads it on
 * the group's stream, runs the NCCL collective there, downloads the result and waits for all of it with one deadline.
 * This is how workers whose gradients arrive in host memory use NVLink instead of loopback TCP.
 *
 * <p>All-reduce results are bitwise identical on every rank: NCCL's ring and tree all-reduce compute each element's
 * sum once (on one rank, in an order fixed by the communicator) and copy it to the others; with
 * {@code reduceThenBroadcast} the sum is formed on rank 0 and broadcast, which holds by construction (about twice
 * the time). The scale of an average is applied to the result on the host ({@code sum * scale}), the same on every
 * rank.
 */
public final class NcclHostCollectives implements AutoCloseable {
    private final NcclGroup group;
    private final boolean reduceThenBroadcast;
    private final NcclStaging main = new NcclStaging("nccl staging");
    private final NcclStaging gathered = new NcclStaging("nccl gathered");
    private boolean closed;

    /**
     * @param group               the communicator (closed by {@link #close()})
     * @param reduceThenBroadcast all-reduce as a reduce to rank 0 plus a broadcast instead of NCCL's all-reduce
     */
    public NcclHostCollectives(NcclGroup group, boolean reduceThenBroadcast) {
        this.group = Objects.requireNonNull(group, "group");
        this.reduceThenBroadcast = reduceThenBroadcast;
    }

    /** @return the communicator */
    public NcclGroup group() {
        return group;
    }

    /**
     * In-place sum over all ranks of the floats of {@code parts} (each from its position to its limit, which are left
     * unchanged) laid end to end, multiplied by {@code scale} unless it is 1.
     *
     * @throws NcclException on timeout, abort or an NCCL/CUDA error
     */
    public synchronized void allReduce(FloatBuffer[] parts, float scale, Duration timeout) {
        staged(parts, scale, "allReduce", timeout, n -> {
            if (reduceThenBroadcast) {
                group.reduceSum(main.device(), n, 0, timeout);
                group.broadcast(main.device(), n, 0, timeout);
            } else {
                group.enqueueAllReduceSum(main.device(), n, timeout);
            }
        });
    }

    /**
     * Copies {@code root}'s floats of {@code parts} (each from its position to its limit) to every rank, one NCCL
     * broadcast (about half the traffic of a sum with zeros from the other ranks).
     *
     * @throws NcclException on timeout, abort or an NCCL/CUDA error
     */
    public synchronized void broadcast(FloatBuffer[] parts, int root, Duration timeout) {
        staged(parts, 1f, "broadcast", timeout, n -> group.broadcast(main.device(), n, root, timeout));
    }

    /** Stages {@code parts} end to end on the device, enqueues {@code collective} on them, copies back (scaled). */
    private void staged(
            FloatBuffer[] parts,
            float scale,
            String name,
            Duration timeout,
            java.util.function.LongConsumer collective) {
        long n = 0;
        for (FloatBuffer p : parts) {
            n += p.remaining();
        }
        FloatBuffer staged = main.host(n * 4).asFloatBuffer();
        for (FloatBuffer p : parts) {
            staged.put(p.duplicate());
        }
        main.upload(group, n * 4);
        collective.accept(n);
        main.download(group, n * 4);
        group.await(name + "(" + n + " floats)", timeout);
        staged.flip();
        for (FloatBuffer p : parts) {
            FloatBuffer out = p.duplicate();
            if (scale == 1f) {
                FloatBuffer src = staged.duplicate();
                src.limit(src.position() + out.remaining());
                out.put(src);
                staged.position(staged.position() + p.remaining());
            } else {
                while (out.hasRemaining()) {
                    out.put(staged.get() * scale);
                }
            }
        }
    }

    /**
     * Gathers one byte array from every rank: first every rank's length, then the arrays padded to the longest.
     *
     * @return {@code size} arrays indexed by rank
     */
    public synchronized byte[][] allGather(byte[] mine, Duration timeout) {
        if (mine.length > GatherFrames.MAX_BYTES) {
            throw new IllegalArgumentException(
                    "allGather: " + mine.length + " bytes is more than " + GatherFrames.MAX_BYTES + " per rank");
        }
        int size = group.size();
        ByteBuffer len = main.host(4);
        len.putInt(0, mine.length);
        main.upload(group, 4);
        gathered.host(4L * size);
        group.allGatherBytes(main.device(), gathered.device(), 4, timeout);
        gathered.download(group, 4L * size);
        group.await("allGather(lengths)", timeout);
        int[] lengths = GatherFrames.lengths(gathered.host(4L * size), size);
        int width = GatherFrames.width(lengths);
        if (width == 0) {
            return GatherFrames.split(ByteBuffer.allocate(0), lengths, 0);
        }
        ByteBuffer send = main.host(width);
        send.put(mine);
        while (send.hasRemaining()) {
            send.put((byte) 0);
        }
        main.upload(group, width);
        ByteBuffer all = gathered.host((long) width * size);
        group.allGatherBytes(main.device(), gathered.device(), width, timeout);
        gathered.download(group, (long) width * size);
        group.await("allGather(" + width + " bytes per rank)", timeout);
        return GatherFrames.split(all, lengths, width);
    }

    /** Returns once every rank has called it (an all-reduce of one float). */
    public void barrier(Duration timeout) {
        allReduce(new FloatBuffer[] {FloatBuffer.allocate(1)}, 1f, timeout);
    }

    /** Closes the group (see {@link NcclGroup#close()}), then frees the staging buffers. Idempotent; never throws. */
    @Override
    public void close() {
        group.close();
        synchronized (this) {
            if (!closed) {
                closed = true;
                try {
                    main.close();
                    gathered.close();
                } catch (RuntimeException ignored) {
                    // closing after a device error
                }
            }
        }
    }
}
