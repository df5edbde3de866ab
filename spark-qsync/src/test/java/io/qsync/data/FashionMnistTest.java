package io.qsync.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    @Test
    void readsBothSplitsOfTheInstalledDataset() {
        LabeledImages train = FashionMnist.load(FashionMnist.Split.TRAIN);
        LabeledImages test = FashionMnist.load(FashionMnist.Split.TEST);
        assertEquals(60_000, train.count());
        assertEquals(10_000, test.count());
        assertEquals(784, train.features());
        int[] perClass = new int[10];
        for (int i = 0; i < test.count(); i++) {
            perClass[test.label(i)]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(1000, perClass[c], "Fashion-MNIST's test split has 1000 images per class");
        }
        float[] f = train.features(0);
        float max = 0;
        for (float v : f) {
            assertTrue(v >= 0f && v <= 1f);
            max = Math.max(max, v);
        }
        assertEquals(1f, max, "the first training image has a saturated pixel");
        assertEquals(9, train.label(0), "first training label of Fashion-MNIST is 9 (ankle boot)");
    }

    @Test
    void missingDirectoryNamesThePathAndTheFix(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        var e = assertThrows(
                FashionMnist.DatasetException.class, () -> FashionMnist.load(missing, FashionMnist.Split.TEST));
        assertTrue(
                e.getMessage()
                        .contains(missing.resolve("t10k-images-idx3-ubyte.gz").toString()),
                e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void corruptFilesAreReportedWithTheirPath(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), new byte[] {1, 2, 3, 4, 5});
        writeGz(dir.resolve("t10k-labels-idx1-ubyte.gz"), 0x801, 3, new byte[] {0, 1, 2});
        var notGzip = assertThrows(
                FashionMnist.DatasetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertTrue(notGzip.getMessage().contains("not a valid gzip"), notGzip.getMessage());

        writeGz(dir.resolve("t10k-images-idx3-ubyte.gz"), 0x1234, 3, new byte[0]);
        var badMagic = assertThrows(
                FashionMnist.DatasetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertTrue(badMagic.getMessage().contains("bad IDX magic"), badMagic.getMessage());

        writeImages(dir.resolve("t10k-images-idx3-ubyte.gz"), 3, 100);
        var truncated = assertThrows(
                FashionMnist.DatasetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
        assertTrue(truncated.getMessage().contains(dir.toString()), truncated.getMessage());
    }

    @Test
    void aDamagedChecksumIsFoundEvenWhenEveryValueDecodes(@TempDir Path dir) throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte.gz"), 3, 3 * 784);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        writeGz(labels, 0x801, 3, new byte[] {0, 1, 2});
        assertTrue(FashionMnist.load(dir, FashionMnist.Split.TEST).count() == 3, "the intact files load");
        byte[] gz = Files.readAllBytes(labels);
        gz[gz.length - 8] ^= 0x5a; // CRC-32 of the trailer: the deflate stream itself still decodes
        Files.write(labels, gz);
        var e = assertThrows(
                FashionMnist.DatasetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertTrue(e.getMessage().contains(labels.toString()) && e.getMessage().contains("gzip"), e.getMessage());
    }

    /** An IDX image file header for {@code n} 28x28 images followed by {@code pixelBytes} zero bytes. */
    private static void writeImages(Path p, int n, int pixelBytes) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(p)))) {
            out.writeInt(0x803);
            out.writeInt(n);
            out.writeInt(28);
            out.writeInt(28);
            out.write(new byte[pixelBytes]);
        }
    }

    private static void writeGz(Path p, int magic, int n, byte[] body) throws IOException {
        try (OutputStream os = Files.newOutputStream(p);
                DataOutputStream out = new DataOutputStream(new GZIPOutputStream(os))) {
            out.writeInt(magic);
            out.writeInt(n);
            out.write(body);
        }
    }
}
