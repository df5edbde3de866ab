package io.qsync.lowprec.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The abort notice NCCL lacks between the ranks of one host: a directory named after the communicator's unique id
 * (under {@code /dev/shm}, which NCCL's own shared-memory transport needs the host's processes to share, else the
 * temporary directory) where an aborting rank leaves a file with its reason; waiting ranks look at it every
 * {@value #LOOK_NANOS} ns and fail with that reason instead of waiting for their timeout. Best effort: a file that
 * cannot be written only loses the notice.
 */
final class AbortBoard {
    /** How often a waiting rank looks for a notice (ns). */
    static final long LOOK_NANOS = 20_000_000L;

    private final Path dir;
    private final int rank;
    private volatile boolean posted;

    private AbortBoard(Path dir, int rank) {
        this.dir = dir;
        this.rank = rank;
    }

    /** The board of communicator {@code id} for {@code rank}, under {@code root}. */
    static AbortBoard of(byte[] id, int rank, Path root) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(id);
            return new AbortBoard(root.resolve("qsync-nccl-" + HexFormat.of().formatHex(h, 0, 12)), rank);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    /** The board of communicator {@code id} for {@code rank} under /dev/shm (or java.io.tmpdir without it). */
    static AbortBoard of(byte[] id, int rank) {
        Path shm = Path.of("/dev/shm");
        return of(id, rank, Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Leaves this rank's reason for the others (the first notice of a rank stays). */
    void post(String reason) {
        posted = true;
        try {
            Files.createDirectories(dir);
            Path mine = dir.resolve("rank-" + rank);
            if (!Files.exists(mine)) {
                Path tmp = Files.createTempFile(dir, ".rank-" + rank, ".tmp");
                Files.writeString(tmp, reason, StandardCharsets.UTF_8);
                Files.move(tmp, mine, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException | RuntimeException e) {
            // best effort: the peers still have their timeout
        }
    }

    /** @return another rank's notice ({@code "rank r: reason"}), or null when there is none */
    String peerNotice() {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "rank-*")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (!name.equals("rank-" + rank)) {
                    return name.replace('-', ' ') + ": " + Files.readString(f, StandardCharsets.UTF_8);
                }
            }
        } catch (IOException | RuntimeException e) {
            // a notice being removed by a closing rank: none
        }
        return null;
    }

    /**
     * Removes the directory when it is empty. A rank that posted keeps its notice there (its peers may not have seen
     * it yet): a few bytes in /dev/shm per failed job.
     */
    void leave() {
        if (posted) {
            return;
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException | RuntimeException e) {
            // another rank's notice is still there: the last one to leave removes the directory
        }
    }
}
