package io.qsync.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads Fashion-MNIST from its IDX files ({@code train-images-idx3-ubyte.gz} and friends), as installed by the Debian
 * package {@code dataset-fashion-mnist} under {@link #DEFAULT_DIR}. Missing or corrupt files raise a
 * {@link DatasetException} that names the path and the fix.
 */
public final class FashionMnist {

    /** Where the Debian package {@code dataset-fashion-mnist} installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** Class names, indexed by label. */
    public static final String[] CLASS_NAMES = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    };

    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;
    private static final String FIX = "install it with `apt-get update && apt-get install dataset-fashion-mnist` "
            + "or point --data-dir / spark.qsync.data.dir at a directory holding the four Fashion-MNIST .gz files";

    /** The two standard splits. */
    public enum Split {
        /** 60 000 training images. */
        TRAIN("train"),
        /** 10 000 test images. */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        /** File name of this split's images. */
        public String imagesFile() {
            return prefix + "-images-idx3-ubyte.gz";
        }

        /** File name of this split's labels. */
        public String labelsFile() {
            return prefix + "-labels-idx1-ubyte.gz";
        }
    }

    private FashionMnist() {}

    /** Loads a split from {@link #DEFAULT_DIR}. */
    public static LabeledImages load(Split split) {
        return load(DEFAULT_DIR, split);
    }

    /**
     * Loads a split from {@code dir}.
     *
     * @throws DatasetException if a file is missing, truncated, not gzip, or has a wrong IDX header
     */
    public static LabeledImages load(Path dir, Split split) {
        Path images = dir.resolve(split.imagesFile());
        Path labels = dir.resolve(split.labelsFile());
        int[] shape = new int[2];
        byte[] pixels = readIdx(images, IMAGES_MAGIC, shape);
        byte[] lab = readIdx(labels, LABELS_MAGIC, null);
        int n = lab.length;
        if ((long) n * shape[0] * shape[1] != pixels.length) {
            throw new DatasetException(images + " holds " + pixels.length / Math.max(1, shape[0] * shape[1])
                    + " images but " + labels + " holds " + n + " labels; the files do not belong together: " + FIX);
        }
        for (int i = 0; i < n; i++) {
            if (lab[i] < 0 || lab[i] >= LabeledImages.NUM_CLASSES) {
                throw new DatasetException(
                        labels + ": label " + lab[i] + " at index " + i + " is outside [0, 10); " + FIX);
            }
        }
        return new LabeledImages(shape[0], shape[1], pixels, lab);
    }

    private static byte[] readIdx(Path file, int magic, int[] shapeOut) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("Fashion-MNIST file not found: " + file + "; " + FIX);
        }
        try (InputStream raw = Files.newInputStream(file);
                DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
            int m = in.readInt();
            if (m != magic) {
                throw new DatasetException(String.format(
                        "%s: bad IDX magic 0x%08x (expected 0x%08x); the file is corrupt; %s", file, m, magic, FIX));
            }
            int n = in.readInt();
            long size = n;
            if (shapeOut != null) {
                shapeOut[0] = in.readInt();
                shapeOut[1] = in.readInt();
                size *= (long) shapeOut[0] * shapeOut[1];
            }
            if (n < 0 || size > Integer.MAX_VALUE - 8) {
                throw new DatasetException(file + ": implausible IDX size " + size + "; the file is corrupt; " + FIX);
            }
            byte[] data = new byte[(int) size];
            in.readFully(data);
            if (in.read() != -1) { // reading on checks the gzip trailer (CRC-32 and length) of the whole file
                throw new DatasetException(
                        file + " has data after its " + size + " IDX values; the file is corrupt; " + FIX);
            }
            return data;
        } catch (EOFException e) {
            throw new DatasetException(file + " is truncated (unexpected end of data); the file is corrupt; " + FIX, e);
        } catch (ZipException e) {
            throw new DatasetException(file + " is not a valid gzip file (" + e.getMessage() + "); " + FIX, e);
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e + "; " + FIX, e);
        }
    }

    /** Unchecked failure to read a dataset; the message names the file and the fix. */
    public static final class DatasetException extends UncheckedIOException {
        private static final long serialVersionUID = 1L;

        DatasetException(String message) {
            super(message, new IOException(message));
        }

        DatasetException(String message, Throwable cause) {
            super(message, cause instanceof IOException io ? io : new IOException(cause));
        }
    }
}
