package io.qsync.spark;

import io.qsync.runtime.Checkpoint;
import io.qsync.runtime.CheckpointStore;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checkpoints in a directory of any Hadoop file system ({@code hdfs://…}, {@code s3a://…}, or a local path): one file
 * {@code step-<n>.qsync} per checkpoint, written under a temporary name and renamed when complete, so a reader never
 * sees a partial one; the two newest are kept. The local file system keeps Hadoop's CRC files, so damage is detected
 * when a checkpoint is read.
 */
final class HadoopCheckpointStore implements CheckpointStore, Serializable {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "step-";
    private static final String SUFFIX = ".qsync";
    private static final int KEEP = 2;
    private final String dir;

    /** A store in {@code dir} ({@code spark.qsync.checkpoint.dir}). */
    HadoopCheckpointStore(String dir) {
        this.dir = dir;
    }

    private FileSystem fs() throws IOException {
        return new Path(dir).getFileSystem(new Configuration());
    }

    private Path file(long step) {
        return new Path(dir, String.format("%s%012d%s", PREFIX, step, SUFFIX));
    }

    @Override
    public long latestStep() {
        long[] steps = steps();
        return steps.length == 0 ? -1 : steps[steps.length - 1];
    }

    /** Steps of the complete checkpoints, ascending. */
    private long[] steps() {
        try {
            FileSystem fs = fs();
            Path d = new Path(dir);
            if (!fs.exists(d)) {
                return new long[0];
            }
            return Arrays.stream(fs.listStatus(d))
                    .map(FileStatus::getPath)
                    .map(Path::getName)
                    .filter(n -> n.startsWith(PREFIX) && n.endsWith(SUFFIX))
                    .mapToLong(n -> Long.parseLong(n.substring(PREFIX.length(), n.length() - SUFFIX.length())))
                    .sorted()
                    .toArray();
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot list the checkpoints in " + dir + " (spark.qsync.checkpoint.dir)", e);
        }
    }

    @Override
    public Checkpoint load(long step) {
        try (ObjectInputStream in = new ObjectInputStream(fs().open(file(step)))) {
            return (Checkpoint) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException(
                    "cannot read the checkpoint " + file(step) + " (damaged?); delete it to resume "
                            + "from the one before, or use another spark.qsync.checkpoint.dir: " + e,
                    e);
        }
    }

    @Override
    public void save(Checkpoint c) {
        try {
            FileSystem fs = fs();
            Path tmp = new Path(dir, "." + file(c.step()).getName() + ".tmp");
            try (ObjectOutputStream out = new ObjectOutputStream(fs.create(tmp, true))) {
                out.writeObject(c);
            }
            if (!fs.rename(tmp, file(c.step()))) {
                throw new IOException("rename of " + tmp + " failed");
            }
            long[] steps = steps();
            for (int i = 0; i < steps.length - KEEP; i++) {
                fs.delete(file(steps[i]), false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint to " + dir + " (spark.qsync.checkpoint.dir)", e);
        }
    }
}
