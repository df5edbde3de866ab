package io.qsync.data;

import java.io.Serializable;
import java.util.Objects;

/**
 * An in-memory image classification set in compact form: {@code count} images of {@code rows x cols} unsigned
 * 8-bit pixels, row-major, plus one label per image. Pixels scale to floats in [0, 1] by {@code p / 255}.
 *
 * @param rows   image height
 * @param cols   image width
 * @param pixels {@code count * rows * cols} unsigned bytes
 * @param labels {@code count} labels in {@code [0, numClasses)}
 */
public record LabeledImages(int rows, int cols, byte[] pixels, byte[] labels) implements Serializable {

    /** Number of classes of Fashion-MNIST (and MNIST). */
    public static final int NUM_CLASSES = 10;

    /** Validates that pixel and label counts agree. */
    public LabeledImages {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        if ((long) rows * cols * labels.length != pixels.length) {
            throw new IllegalArgumentException("LabeledImages: " + labels.length + " labels but " + pixels.length
                    + " pixels for " + rows + "x" + cols + " images");
        }
    }

    /** Number of images. */
    public int count() {
        return labels.length;
    }

    /** Number of features (pixels) per image. */
    public int features() {
        return rows * cols;
    }

    /** Label of image {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** Writes image {@code i} scaled to [0, 1] into {@code out} at {@code offset}. */
    public void copyFeatures(int i, float[] out, int offset) {
        int n = features();
        int base = i * n;
        for (int k = 0; k < n; k++) {
            out[offset + k] = (pixels[base + k] & 0xFF) / 255f;
        }
    }

    /** Image {@code i} scaled to [0, 1]. */
    public float[] features(int i) {
        float[] f = new float[features()];
        copyFeatures(i, f, 0);
        return f;
    }

    /** The images as a runtime shard (features in [0, 1], integer labels). */
    public io.qsync.runtime.LocalShard toShard() {
        int n = features();
        float[] f = new float[count() * n];
        int[] l = new int[count()];
        for (int i = 0; i < count(); i++) {
            copyFeatures(i, f, i * n);
            l[i] = labels[i];
        }
        return new io.qsync.runtime.LocalShard(f, l, n);
    }

    /** The first {@code n} images (or all, if fewer). */
    public LabeledImages head(int n) {
        int m = Math.min(n, count());
        byte[] p = new byte[m * features()];
        System.arraycopy(pixels, 0, p, 0, p.length);
        byte[] l = new byte[m];
        System.arraycopy(labels, 0, l, 0, m);
        return new LabeledImages(rows, cols, p, l);
    }

    /** Images {@code [from, to)}. */
    public LabeledImages slice(int from, int to) {
        int n = features();
        byte[] p = new byte[(to - from) * n];
        System.arraycopy(pixels, from * n, p, 0, p.length);
        byte[] l = new byte[to - from];
        System.arraycopy(labels, from, l, 0, l.length);
        return new LabeledImages(rows, cols, p, l);
    }
}
