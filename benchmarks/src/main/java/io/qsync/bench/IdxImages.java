package io.qsync.bench;

import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.zip.GZIPInputStream;

/**
 * Minimal reader for gzipped IDX files (MNIST / Fashion-MNIST) used by the benchmark harnesses only
 * (the project's full reader lives in spark-qsync).
 */
public final class IdxImages {
    private IdxImages() {}

    /**
     * @param path  {@code *-images-idx3-ubyte.gz}
     * @param limit maximum number of images
     * @return images as {@code [n][rows*cols]} floats scaled to [0, 1]
     * @throws IOException on read errors or a wrong magic number
     */
    public static float[][] images(String path, int limit) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(new FileInputStream(path), 1 << 16))) {
            if (in.readInt() != 0x803) {
                throw new IOException(path + " is not an IDX3 image file");
            }
            int n = Math.min(limit, in.readInt());
            int pixels = in.readInt() * in.readInt();
            float[][] out = new float[n][pixels];
            byte[] buf = new byte[pixels];
            for (int i = 0; i < n; i++) {
                in.readFully(buf);
                for (int j = 0; j < pixels; j++) {
                    out[i][j] = (buf[j] & 0xFF) / 255f;
                }
            }
            return out;
        }
    }

    /**
     * @param path  {@code *-labels-idx1-ubyte.gz}
     * @param limit maximum number of labels
     * @return labels 0..9
     * @throws IOException on read errors or a wrong magic number
     */
    public static int[] labels(String path, int limit) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(new FileInputStream(path)))) {
            if (in.readInt() != 0x801) {
                throw new IOException(path + " is not an IDX1 label file");
            }
            int n = Math.min(limit, in.readInt());
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = in.readUnsignedByte();
            }
            return out;
        }
    }
}
