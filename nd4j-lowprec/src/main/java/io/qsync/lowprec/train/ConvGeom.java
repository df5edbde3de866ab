package io.qsync.lowprec.train;

/**
 * Geometry of a 2-D convolution or pooling window over NCHW planes: input {@code c x h x w}, kernel
 * {@code kh x kw}, stride, top/left padding (the bottom/right padding is whatever the output size needs, read as
 * zeros or ignored) and output {@code oh x ow}.
 */
public record ConvGeom(int c, int h, int w, int kh, int kw, int sh, int sw, int padTop, int padLeft, int oh, int ow) {

    /** Checks the sizes. */
    public ConvGeom {
        if (c < 1
                || h < 1
                || w < 1
                || kh < 1
                || kw < 1
                || sh < 1
                || sw < 1
                || oh < 1
                || ow < 1
                || padTop < 0
                || padLeft < 0) {
            throw new IllegalArgumentException(
                    "bad convolution geometry " + c + "x" + h + "x" + w + " kernel " + kh + "x" + kw + " stride " + sh
                            + "x" + sw + " pad " + padTop + "," + padLeft + " out " + oh + "x" + ow);
        }
    }

    /** Rows of the im2col matrix: {@code c * kh * kw}. */
    public int patch() {
        return c * kh * kw;
    }

    /** Output positions per plane: {@code oh * ow}. */
    public int outPlane() {
        return oh * ow;
    }

    /** Input positions per plane: {@code h * w}. */
    public int inPlane() {
        return h * w;
    }
}
