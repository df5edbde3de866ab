package io.qsync.lowprec.train;

/** {@link HostOps}' image loops: im2col/col2im, window pooling, global pooling (NCHW). */
final class HostImageKernels {

    void im2col(HostTensor x, ConvGeom g, int batch, HostTensor cols) {
        patches(x, g, batch, cols, false);
    }

    void col2im(HostTensor cols, ConvGeom g, int batch, HostTensor dx) {
        java.util.Arrays.fill(dx.data(), dx.offset(), dx.offset() + dx.len(), 0f);
        patches(dx, g, batch, cols, true);
    }

    /**
     * Walks every (patch row, image, output position) pair: im2col copies the input element (0 outside) into cols;
     * the adjoint ({@code back}) adds the cols entry into the input element.
     */
    private static void patches(HostTensor x, ConvGeom g, int batch, HostTensor cols, boolean back) {
        int p = g.outPlane();
        long cols1 = (long) batch * p;
        float[] xv = x.data();
        float[] cv = cols.data();
        for (int ch = 0; ch < g.c(); ch++) {
            for (int ky = 0; ky < g.kh(); ky++) {
                for (int kx = 0; kx < g.kw(); kx++) {
                    int row = (ch * g.kh() + ky) * g.kw() + kx;
                    for (int b = 0; b < batch; b++) {
                        int xin = x.offset() + (b * g.c() + ch) * g.inPlane();
                        int ci = cols.offset() + (int) (row * cols1) + b * p;
                        for (int oy = 0; oy < g.oh(); oy++) {
                            int iy = oy * g.sh() - g.padTop() + ky;
                            for (int ox = 0; ox < g.ow(); ox++) {
                                int ix = ox * g.sw() - g.padLeft() + kx;
                                boolean in = iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w();
                                int c = ci + oy * g.ow() + ox;
                                if (back) {
                                    if (in) {
                                        xv[xin + iy * g.w() + ix] += cv[c];
                                    }
                                } else {
                                    cv[c] = in ? xv[xin + iy * g.w() + ix] : 0f;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Index (within the plane) of the window's first maximum, or -1 if the window is all padding. */
    private static int argmax(float[] xv, int base, ConvGeom g, int oy, int ox) {
        int best = -1;
        float bv = Float.NEGATIVE_INFINITY;
        for (int ky = 0; ky < g.kh(); ky++) {
            int iy = oy * g.sh() - g.padTop() + ky;
            if (iy < 0 || iy >= g.h()) {
                continue;
            }
            for (int kx = 0; kx < g.kw(); kx++) {
                int ix = ox * g.sw() - g.padLeft() + kx;
                if (ix < 0 || ix >= g.w()) {
                    continue;
                }
                float v = xv[base + iy * g.w() + ix];
                if (best < 0 || v > bv) {
                    bv = v;
                    best = iy * g.w() + ix;
                }
            }
        }
        return best;
    }

    void pool(boolean max, HostTensor x, ConvGeom g, int planes, HostTensor y) {
        float[] xv = x.data();
        float inv = 1f / (g.kh() * g.kw());
        for (int pl = 0; pl < planes; pl++) {
            int base = x.offset() + pl * g.inPlane();
            int out = y.offset() + pl * g.outPlane();
            for (int oy = 0; oy < g.oh(); oy++) {
                for (int ox = 0; ox < g.ow(); ox++) {
                    float r;
                    if (max) {
                        int a = argmax(xv, base, g, oy, ox);
                        r = a < 0 ? 0f : xv[base + a];
                    } else {
                        float s = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int iy = oy * g.sh() - g.padTop() + ky;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int ix = ox * g.sw() - g.padLeft() + kx;
                                if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                    s += xv[base + iy * g.w() + ix];
                                }
                            }
                        }
                        r = s * inv;
                    }
                    y.data()[out + oy * g.ow() + ox] = r;
                }
            }
        }
    }

    void poolBackward(boolean max, HostTensor x, HostTensor dy, ConvGeom g, int planes, HostTensor dx) {
        java.util.Arrays.fill(dx.data(), dx.offset(), dx.offset() + dx.len(), 0f);
        float inv = 1f / (g.kh() * g.kw());
        for (int pl = 0; pl < planes; pl++) {
            int base = x.offset() + pl * g.inPlane();
            int dbase = dx.offset() + pl * g.inPlane();
            int out = dy.offset() + pl * g.outPlane();
            for (int oy = 0; oy < g.oh(); oy++) {
                for (int ox = 0; ox < g.ow(); ox++) {
                    float d = dy.data()[out + oy * g.ow() + ox];
                    if (max) {
                        int a = argmax(x.data(), base, g, oy, ox);
                        if (a >= 0) {
                            dx.data()[dbase + a] += d;
                        }
                        continue;
                    }
                    for (int ky = 0; ky < g.kh(); ky++) {
                        int iy = oy * g.sh() - g.padTop() + ky;
                        for (int kx = 0; kx < g.kw(); kx++) {
                            int ix = ox * g.sw() - g.padLeft() + kx;
                            if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                dx.data()[dbase + iy * g.w() + ix] += d * inv;
                            }
                        }
                    }
                }
            }
        }
    }

    void globalPool(boolean max, HostTensor x, int planes, int size, HostTensor y) {
        for (int pl = 0; pl < planes; pl++) {
            int base = x.offset() + pl * size;
            float r = max ? Float.NEGATIVE_INFINITY : 0f;
            for (int i = 0; i < size; i++) {
                float v = x.data()[base + i];
                r = max ? Math.max(r, v) : r + v;
            }
            y.data()[y.offset() + pl] = max ? r : r / size;
        }
    }

    void globalPoolBackward(boolean max, HostTensor x, HostTensor dy, int planes, int size, HostTensor dx) {
        for (int pl = 0; pl < planes; pl++) {
            int base = x.offset() + pl * size;
            int dbase = dx.offset() + pl * size;
            float d = dy.data()[dy.offset() + pl];
            int best = 0;
            if (max) {
                for (int i = 1; i < size; i++) {
                    if (x.data()[base + i] > x.data()[base + best]) {
                        best = i;
                    }
                }
            }
            for (int i = 0; i < size; i++) {
                dx.data()[dbase + i] = max ? (i == best ? d : 0f) : d / size;
            }
        }
    }
}
