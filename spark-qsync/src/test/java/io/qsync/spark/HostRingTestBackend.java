package io.qsync.spark;

import io.qsync.comm.CommConfig;
import io.qsync.comm.CommException;
import io.qsync.comm.Communicator;
import io.qsync.comm.TcpRingCommunicator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test backend ({@code spark.qsync.backend=test-hostring}) that trains on the CPU backend and offers a host
 * collective as the CUDA backend offers NCCL: a TCP ring among the host's workers, met through files in a directory
 * whose path is the collective's id (the workers of one machine share its file system). It lets the two-level gradient
 * exchange run end to end in a real Spark job without GPUs.
 */
public final class HostRingTestBackend extends TestBackend {
    /** How many workers of this JVM joined a host collective (tests read it). */
    public static final AtomicInteger JOINED = new AtomicInteger();

    private static final AtomicInteger NEXT_DEVICE = new AtomicInteger();

    /** Selected by {@code spark.qsync.backend=test-hostring}. */
    public HostRingTestBackend() {
        super("test-hostring");
    }

    /** A device id distinct for every worker of the machine: this JVM's pid and a counter. */
    @Override
    public int hostCollectiveDevice(String deviceKind, int ordinal) {
        return (int) (ProcessHandle.current().pid() % 100_000) * 1000 + NEXT_DEVICE.getAndIncrement() % 1000;
    }

    @Override
    public Optional<byte[]> newHostCollectiveId() {
        try {
            return Optional.of(
                    Files.createTempDirectory("qsync-hostring").toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Communicator joinHostCollective(
            byte[] id, int localRank, int localSize, int deviceOrdinal, CommConfig config) {
        Path dir = Path.of(new String(id, StandardCharsets.UTF_8));
        try (TcpRingCommunicator.Endpoint e = TcpRingCommunicator.open("127.0.0.1", config)) {
            Path tmp = dir.resolve(localRank + ".tmp");
            Files.writeString(tmp, e.address());
            Files.move(tmp, dir.resolve(Integer.toString(localRank)), StandardCopyOption.ATOMIC_MOVE);
            long deadline = System.nanoTime() + config.connectTimeout().toNanos();
            List<String> peers = new ArrayList<>();
            for (int r = 0; r < localSize; r++) {
                Path p = dir.resolve(Integer.toString(r));
                while (!Files.exists(p)) {
                    if (System.nanoTime() > deadline) {
                        throw new CommException("host ring: worker " + r + " never published its address in " + dir
                                + " (timed out after " + CommConfig.CONNECT_TIMEOUT_KEY + ")");
                    }
                    Thread.sleep(20);
                }
                peers.add(Files.readString(p));
            }
            Communicator c = e.connect(localRank, peers, "hostring-" + dir.getFileName());
            JOINED.incrementAndGet();
            return c;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new CommException("host ring: interrupted");
        }
    }
}
