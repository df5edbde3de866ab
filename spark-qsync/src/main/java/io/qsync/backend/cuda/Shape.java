package io.qsync.backend.cuda;

/**
 * Per-example activation shape: an image {@code c x h x w} (NCHW) or a feature vector ({@code c} features,
 * {@code h = w = 1}).
 *
 * @param c     channels or features
 * @param h     height (1 for a vector)
 * @param w     width (1 for a vector)
 * @param image true for an image
 */
record Shape(int c, int h, int w, boolean image) {

    static Shape vector(long n) {
        return new Shape(Math.toIntExact(n), 1, 1, false);
    }

    static Shape image(long c, long h, long w) {
        return new Shape(Math.toIntExact(c), Math.toIntExact(h), Math.toIntExact(w), true);
    }

    /** Floats per example. */
    int size() {
        return c * h * w;
    }

    /** Positions per channel ({@code h * w}). */
    int plane() {
        return h * w;
    }

    /** The same values seen as a feature vector (DL4J's CNN-to-feed-forward flattening of NCHW). */
    Shape flat() {
        return vector(size());
    }

    @Override
    public String toString() {
        return image ? c + "x" + h + "x" + w : Integer.toString(c);
    }
}
