// Training kernels for io.qsync.lowprec.cuda.CudaTensorOps: the loops of io.qsync.lowprec.train.HostOps
// (HostImageKernels, HostNormKernels) on the device. Compiled at run time by NVRTC (and checked by nvcc -arch=sm_90
// at build time). Reductions run in one block per output in a fixed order, so results are deterministic: two
// replicas on equal inputs stay bitwise equal.
typedef long long i64;

#define TID ((i64)blockIdx.x * blockDim.x + threadIdx.x)
#define NTHREADS ((i64)gridDim.x * blockDim.x)
#define BLOCK 256

// ---- block reduction (BLOCK threads; every thread gets the sum) ----
__device__ double block_sum(double v) {
    __shared__ double part[BLOCK / 32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    double s = 0;
    if (threadIdx.x == 0) {
        for (int w = 0; w < BLOCK / 32; w++) s += part[w];
        part[0] = s;
    }
    __syncthreads();
    return part[0];
}

// ---- activations (codes = io.qsync.lowprec.train.Act ordinals) ----
__device__ __forceinline__ float act_f(int a, float z, float alpha) {
    switch (a) {
        case 1: return z > 0.f ? z : 0.f;
        case 2: return z > 0.f ? z : alpha * z;
        case 3: return tanhf(z);
        case 4: return 1.f / (1.f + expf(-z));
        default: return z;
    }
}
__device__ __forceinline__ float act_d(int a, float z, float alpha) {
    switch (a) {
        case 1: return z > 0.f ? 1.f : 0.f;
        case 2: return z > 0.f ? 1.f : alpha;
        case 3: { float t = tanhf(z); return 1.f - t * t; }
        case 4: { float s = 1.f / (1.f + expf(-z)); return s * (1.f - s); }
        default: return 1.f;
    }
}
extern "C" __global__ void act_fwd(int a, float alpha, const float* z, float* y, i64 n) {
    for (i64 i = TID; i < n; i += NTHREADS) y[i] = act_f(a, z[i], alpha);
}
extern "C" __global__ void act_bwd(int a, float alpha, const float* z, const float* dy, float* dz, i64 n) {
    for (i64 i = TID; i < n; i += NTHREADS) dz[i] = dy[i] * act_d(a, z[i], alpha);
}

// ---- element-wise ----
extern "C" __global__ void fill_f32(float* x, i64 n, float v) {
    for (i64 i = TID; i < n; i += NTHREADS) x[i] = v;
}
extern "C" __global__ void add_f32(const float* a, const float* b, float* out, i64 n) {
    for (i64 i = TID; i < n; i += NTHREADS) out[i] = a[i] + b[i];
}
extern "C" __global__ void scale_f32(float* x, i64 n, float s) {
    for (i64 i = TID; i < n; i += NTHREADS) x[i] *= s;
}
extern "C" __global__ void divide_f32(float* x, i64 n, float d) {
    for (i64 i = TID; i < n; i += NTHREADS) x[i] = __fdiv_rn(x[i], d); // IEEE division, as ND4J's divi
}
extern "C" __global__ void axpy_f32(float alpha, const float* x, float* y, i64 n) {
    for (i64 i = TID; i < n; i += NTHREADS) y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i])); // unfused (updates)
}
extern "C" __global__ void axpy_sign_f32(float alpha, const float* x, float* y, i64 n) {
    for (i64 i = TID; i < n; i += NTHREADS) {
        float v = x[i];
        y[i] = __fadd_rn(y[i], __fmul_rn(alpha, v > 0.f ? 1.f : (v < 0.f ? -1.f : 0.f)));
    }
}
extern "C" __global__ void clip_f32(float* x, i64 n, float t) {
    for (i64 i = TID; i < n; i += NTHREADS) x[i] = fmaxf(-t, fminf(t, x[i]));
}
extern "C" __global__ void copy_blocks(const float* src, int srcStride, int srcOff, float* dst, int dstStride,
                                       int dstOff, int outer, int block, int acc) {
    i64 n = (i64)outer * block;
    for (i64 i = TID; i < n; i += NTHREADS) {
        i64 o = i / block, j = i - o * block;
        float v = src[o * srcStride + srcOff + j];
        float* d = dst + o * dstStride + dstOff + j;
        *d = acc ? *d + v : v;
    }
}
extern "C" __global__ void swap_axes(const float* src, float* dst, int a, int b, int inner) {
    i64 n = (i64)a * b * inner;
    for (i64 i = TID; i < n; i += NTHREADS) {
        i64 r = i % inner, ij = i / inner;
        i64 j = ij % b, ii = ij / b;
        dst[(j * a + ii) * inner + r] = src[i];
    }
}

// src [a, b] -> dst [b, a] through 32x32 shared tiles (256 threads = 32 x 8), so that reads and writes are both
// coalesced; blocks stride over the tiles
extern "C" __global__ void transpose_f32(const float* src, float* dst, int a, int b) {
    __shared__ float tile[32][33];
    i64 tilesB = ((i64)b + 31) / 32, tiles = tilesB * (((i64)a + 31) / 32);
    int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
    for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
        i64 r0 = (t / tilesB) * 32, c0 = (t % tilesB) * 32;
        for (int j = ty; j < 32; j += 8) {
            i64 r = r0 + j, c = c0 + tx;
            if (r < a && c < b) tile[j][tx] = src[r * b + c];
        }
        __syncthreads();
        for (int j = ty; j < 32; j += 8) {
            i64 c = c0 + j, r = r0 + tx;
            if (c < b && r < a) dst[c * a + r] = tile[tx][j];
        }
        __syncthreads();
    }
}

// ---- bias ----
// tensors hold < 2^31 elements (CudaTensorOps.MAX_ELEMENTS), so indices divide in 32 bits (64-bit divisions
// made these memory-bound kernels instruction-bound)
extern "C" __global__ void add_bias(float* x, const float* bias, int outer, int ch, int inner) {
    i64 n = (i64)outer * ch * inner;
    for (i64 i = TID; i < n; i += NTHREADS) x[i] += bias[((unsigned)i / (unsigned)inner) % (unsigned)ch];
}
// sum over (outer, inner) per channel in two fixed-order stages, so that every SM works (one block per channel left
// most of an H100 idle: 64 blocks over 132 SMs for a 64-channel layer): block (c, s) sums rows [s*rows, (s+1)*rows)
// of channel c into part[c * splits + s]; then one thread per channel adds the parts in order.
// (act_bwd_sum_bias_part, ACT: dz = dy * f'(z) is written and summed in the same order)
template <bool ACT>
__device__ __forceinline__ void bias_part(int a, float alpha, const float* z, const float* dy, float* dz, double* part,
                                          int outer, int ch, int inner, int rows) {
    int c = blockIdx.x, sp = blockIdx.y;
    int o0 = sp * rows;
    int o1 = min(outer, o0 + rows);
    double s = 0;
    unsigned m = (unsigned)(o1 > o0 ? o1 - o0 : 0) * (unsigned)inner;
    for (unsigned k = threadIdx.x; k < m; k += BLOCK) {
        unsigned o = k / (unsigned)inner, i = k - o * (unsigned)inner;
        i64 j = ((i64)(o0 + o) * ch + c) * inner + i;
        float d = dy[j];
        if (ACT) {
            d *= act_d(a, z[j], alpha);
            dz[j] = d;
        }
        s += d;
    }
    s = block_sum(s);
    if (threadIdx.x == 0) part[(i64)c * gridDim.y + sp] = s;
}
extern "C" __global__ void sum_bias_part(const float* dy, double* part, int outer, int ch, int inner, int rows) {
    bias_part<false>(0, 0.f, nullptr, dy, nullptr, part, outer, ch, inner, rows);
}
// act_bwd then sum_bias_part in one pass
extern "C" __global__ void act_bwd_sum_bias_part(int a, float alpha, const float* z, const float* dy, float* dz,
                                                 double* part, int outer, int ch, int inner, int rows) {
    bias_part<true>(a, alpha, z, dy, dz, part, outer, ch, inner, rows);
}
// add_bias then act_fwd in one pass (z keeps the biased values for the backward pass); same results
extern "C" __global__ void add_bias_act(int a, float alpha, float* z, const float* bias, float* y, int outer, int ch,
                                        int inner) {
    i64 n = (i64)outer * ch * inner;
    for (i64 i = TID; i < n; i += NTHREADS) {
        float v = z[i] + bias[((unsigned)i / (unsigned)inner) % (unsigned)ch];
        z[i] = v;
        y[i] = act_f(a, v, alpha);
    }
}
extern "C" __global__ void sum_bias_fold(const double* part, float* db, int ch, int splits) {
    for (i64 c = TID; c < ch; c += NTHREADS) {
        double s = 0;
        for (int k = 0; k < splits; k++) s += part[c * splits + k];
        db[c] = (float)s;
    }
}
// one block per channel (channel counts beyond the two-stage kernels' scratch)
extern "C" __global__ void sum_bias(const float* dy, float* db, int outer, int ch, int inner) {
    int c = blockIdx.x;
    double s = 0;
    i64 m = (i64)outer * inner;
    for (i64 k = threadIdx.x; k < m; k += BLOCK) {
        i64 o = k / inner, i = k - o * inner;
        s += dy[(o * ch + c) * inner + i];
    }
    s = block_sum(s);
    if (threadIdx.x == 0) db[c] = (float)s;
}

// ---- im2col / col2im: cols[r, b*P + p], r = (c*kh + ky)*kw + kx ----
extern "C" __global__ void im2col(const float* x, float* cols, int batch, int C, int H, int W, int KH, int KW,
                                  int SH, int SW, int PT, int PL, int OH, int OW) {
    i64 P = (i64)OH * OW, ncol = batch * P, n = (i64)C * KH * KW * ncol;
    for (i64 i = TID; i < n; i += NTHREADS) {
        i64 r = i / ncol, col = i - r * ncol;
        int b = (int)(col / P), p = (int)(col - (i64)b * P);
        int kx = (int)(r % KW), ky = (int)((r / KW) % KH), c = (int)(r / ((i64)KW * KH));
        int oy = p / OW, ox = p - oy * OW;
        int iy = oy * SH - PT + ky, ix = ox * SW - PL + kx;
        cols[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[(((i64)b * C + c) * H + iy) * W + ix] : 0.f;
    }
}
// gather: one thread per input element, sums the cols entries that read it
extern "C" __global__ void col2im(const float* cols, float* dx, int batch, int C, int H, int W, int KH, int KW,
                                  int SH, int SW, int PT, int PL, int OH, int OW) {
    i64 P = (i64)OH * OW, ncol = batch * P, n = (i64)batch * C * H * W;
    for (i64 i = TID; i < n; i += NTHREADS) {
        int ix = (int)(i % W), iy = (int)((i / W) % H), c = (int)((i / ((i64)W * H)) % C);
        int b = (int)(i / ((i64)W * H * C));
        float s = 0.f;
        for (int ky = 0; ky < KH; ky++) {
            int ty = iy + PT - ky;
            if (ty < 0 || ty % SH != 0) continue;
            int oy = ty / SH;
            if (oy >= OH) continue;
            for (int kx = 0; kx < KW; kx++) {
                int tx = ix + PL - kx;
                if (tx < 0 || tx % SW != 0) continue;
                int ox = tx / SW;
                if (ox >= OW) continue;
                i64 r = ((i64)c * KH + ky) * KW + kx;
                s += cols[r * ncol + (i64)b * P + (i64)oy * OW + ox];
            }
        }
        dx[i] = s;
    }
}

// ---- convolutions with small patches (C*KH*KW <= SMALL_PATCH, e.g. a first layer over 1 channel) ----
// cuDNN's deterministic algorithms are slow there (few blocks over a huge reduction). Patch entry
// r = (c*KH + ky)*KW + kx, as im2col's rows; its offsets are set up once per block. Each thread loads the patch of
// one output position once (0 outside the input) and reuses it for every output channel (forward) or for WG_KC
// channels (filter gradient).
#define SMALL_PATCH 9
#define WG_KC 4
__device__ void small_patch_offsets(int R, int H, int W, int KH, int KW, int* off, int* dy, int* dx) {
    for (int r = threadIdx.x; r < R; r += blockDim.x) {
        int c = r / (KH * KW), q = r - c * KH * KW, ky = q / KW;
        off[r] = c * H * W;
        dy[r] = ky;
        dx[r] = q - ky * KW;
    }
    __syncthreads();
}
__device__ __forceinline__ void small_patch_load(const float* xb, int R, int H, int W, int y0, int x0, const int* off,
                                                 const int* oy_, const int* ox_, float* v) {
#pragma unroll
    for (int r = 0; r < SMALL_PATCH; r++) {
        v[r] = 0.f;
        if (r < R) {
            int iy = y0 + oy_[r], ix = x0 + ox_[r];
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) v[r] = xb[off[r] + iy * W + ix];
        }
    }
}
// y[n, k, p] = sum_r w[k, r] * x[n, patch r at p] (r in order), one thread per (n, p) over every k
extern "C" __global__ void conv_small_fwd(const float* x, const float* w, float* y, int batch, int nOut, int C,
                                          int H, int W, int KH, int KW, int SH, int SW, int PT, int PL, int OH,
                                          int OW) {
    __shared__ int off[SMALL_PATCH], oy_[SMALL_PATCH], ox_[SMALL_PATCH];
    int R = C * KH * KW;
    small_patch_offsets(R, H, W, KH, KW, off, oy_, ox_);
    unsigned P = (unsigned)(OH * OW);
    i64 n = (i64)batch * P;
    for (i64 i = TID; i < n; i += NTHREADS) {
        unsigned u = (unsigned)i, b = u / P, p = u - b * P;
        int oy = (int)(p / (unsigned)OW), ox = (int)(p - (unsigned)oy * OW);
        float v[SMALL_PATCH];
        small_patch_load(x + (i64)b * C * H * W, R, H, W, oy * SH - PT, ox * SW - PL, off, oy_, ox_, v);
        float* yb = y + (i64)b * nOut * P + p;
        for (int k = 0; k < nOut; k++) {
            const float* wk = w + k * R;
            float s = 0.f;
#pragma unroll
            for (int r = 0; r < SMALL_PATCH; r++) {
                if (r < R) s = fmaf(wk[r], v[r], s);
            }
            yb[(i64)k * P] = s;
        }
    }
}
// dw[k, r] = sum over n, p of dy[n, k, p] * x[n, patch r at p], stage one: block (j, s) sums channels
// [j*WG_KC, (j+1)*WG_KC) over images [s*rows, (s+1)*rows) into part[(k*R + r) * splits + s] (then sum_bias_fold over
// nOut*R sums, in order)
extern "C" __global__ void conv_small_wgrad_part(const float* x, const float* dy, double* part, int batch, int nOut,
                                                 int C, int H, int W, int KH, int KW, int SH, int SW, int PT, int PL,
                                                 int OH, int OW, int rows) {
    __shared__ int off[SMALL_PATCH], oy_[SMALL_PATCH], ox_[SMALL_PATCH];
    int R = C * KH * KW;
    small_patch_offsets(R, H, W, KH, KW, off, oy_, ox_);
    int k0 = blockIdx.x * WG_KC, kn = min(WG_KC, nOut - k0), sp = blockIdx.y;
    int n0 = sp * rows, n1 = min(batch, n0 + rows);
    unsigned P = (unsigned)(OH * OW);
    unsigned m = (unsigned)(n1 > n0 ? n1 - n0 : 0) * P;
    float s[WG_KC][SMALL_PATCH];
#pragma unroll
    for (int j = 0; j < WG_KC; j++) {
#pragma unroll
        for (int r = 0; r < SMALL_PATCH; r++) s[j][r] = 0.f;
    }
    for (unsigned t = threadIdx.x; t < m; t += BLOCK) {
        unsigned nn = t / P, p = t - nn * P;
        i64 b = n0 + nn;
        int oy = (int)(p / (unsigned)OW), ox = (int)(p - (unsigned)oy * OW);
        float v[SMALL_PATCH];
        small_patch_load(x + b * C * H * W, R, H, W, oy * SH - PT, ox * SW - PL, off, oy_, ox_, v);
        const float* d = dy + (b * nOut + k0) * P + p;
#pragma unroll
        for (int j = 0; j < WG_KC; j++) {
            if (j < kn) {
                float dv = d[(i64)j * P];
#pragma unroll
                for (int r = 0; r < SMALL_PATCH; r++) s[j][r] = fmaf(dv, v[r], s[j][r]);
            }
        }
    }
#pragma unroll
    for (int j = 0; j < WG_KC; j++) {
#pragma unroll
        for (int r = 0; r < SMALL_PATCH; r++) {
            if (j < kn && r < R) { // uniform over the block: every thread reaches the same block_sum calls
                double v = block_sum((double)s[j][r]);
                if (threadIdx.x == 0) part[((i64)(k0 + j) * R + r) * gridDim.y + sp] = v;
            }
        }
    }
}

// ---- window pooling over planes of H x W ----
__device__ int window_argmax(const float* x, int H, int W, int KH, int KW, int SH, int SW, int PT, int PL, int oy,
                             int ox) {
    int best = -1;
    float bv = 0.f;
    for (int ky = 0; ky < KH; ky++) {
        int iy = oy * SH - PT + ky;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < KW; kx++) {
            int ix = ox * SW - PL + kx;
            if (ix < 0 || ix >= W) continue;
            float v = x[iy * W + ix];
            if (best < 0 || v > bv) { bv = v; best = iy * W + ix; }
        }
    }
    return best;
}
extern "C" __global__ void pool_fwd(int mx, const float* x, float* y, int planes, int H, int W, int KH, int KW,
                                    int SH, int SW, int PT, int PL, int OH, int OW) {
    i64 n = (i64)planes * OH * OW;
    float inv = 1.f / (KH * KW);
    for (i64 i = TID; i < n; i += NTHREADS) {
        unsigned u = (unsigned)i, q = u / (unsigned)OW;
        int ox = (int)(u - q * (unsigned)OW), oy = (int)(q % (unsigned)OH);
        const float* xp = x + (i64)(q / (unsigned)OH) * H * W;
        float r;
        if (mx) {
            int a = window_argmax(xp, H, W, KH, KW, SH, SW, PT, PL, oy, ox);
            r = a < 0 ? 0.f : xp[a];
        } else {
            float s = 0.f;
            for (int ky = 0; ky < KH; ky++) {
                int iy = oy * SH - PT + ky;
                for (int kx = 0; kx < KW; kx++) {
                    int ix = ox * SW - PL + kx;
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += xp[iy * W + ix];
                }
            }
            r = s * inv;
        }
        y[i] = r;
    }
}
// gather: one thread per input element over the windows that contain it
extern "C" __global__ void pool_bwd(int mx, const float* x, const float* dy, float* dx, int planes, int H, int W,
                                    int KH, int KW, int SH, int SW, int PT, int PL, int OH, int OW) {
    i64 n = (i64)planes * H * W;
    float inv = 1.f / (KH * KW);
    for (i64 i = TID; i < n; i += NTHREADS) {
        unsigned u = (unsigned)i, q = u / (unsigned)W;
        int ix = (int)(u - q * (unsigned)W), iy = (int)(q % (unsigned)H);
        i64 pl = q / (unsigned)H;
        const float* xp = x + pl * H * W;
        const float* dyp = dy + pl * OH * OW;
        float s = 0.f;
        for (int ky = 0; ky < KH; ky++) {
            int ty = iy + PT - ky;
            if (ty < 0 || ty % SH != 0 || ty / SH >= OH) continue;
            for (int kx = 0; kx < KW; kx++) {
                int tx = ix + PL - kx;
                if (tx < 0 || tx % SW != 0 || tx / SW >= OW) continue;
                int oy = ty / SH, ox = tx / SW;
                if (mx) {
                    if (window_argmax(xp, H, W, KH, KW, SH, SW, PT, PL, oy, ox) == iy * W + ix) s += dyp[oy * OW + ox];
                } else {
                    s += dyp[oy * OW + ox] * inv;
                }
            }
        }
        dx[i] = s;
    }
}
// pool_bwd for windows that tile the plane (stride = kernel, no padding, OH = H / KH, OW = W / KW): one thread per
// window writes every element of its window (the pooled gradient, or 0) and, on the last row or column of windows, the
// elements no window covers (0). Each element is written once with the value pool_bwd forms (0 + its one
// contribution), where pool_bwd found its window by dividing per element, which made it instruction-bound.
extern "C" __global__ void pool_bwd_tiled(int mx, const float* x, const float* dy, float* dx, int planes, int H,
                                          int W, int KH, int KW, int OH, int OW) {
    i64 n = (i64)planes * OH * OW;
    float inv = 1.f / (KH * KW);
    for (i64 i = TID; i < n; i += NTHREADS) {
        unsigned u = (unsigned)i, q = u / (unsigned)OW;
        int ox = (int)(u - q * (unsigned)OW), oy = (int)(q % (unsigned)OH);
        i64 pl = q / (unsigned)OH;
        const float* xp = x + pl * H * W;
        float* dxp = dx + pl * H * W;
        float g = dy[i];
        int a = mx ? window_argmax(xp, H, W, KH, KW, KH, KW, 0, 0, oy, ox) : -1;
        int y0 = oy * KH, x0 = ox * KW;
        int y1 = oy == OH - 1 ? H : y0 + KH, x1 = ox == OW - 1 ? W : x0 + KW;
        for (int iy = y0; iy < y1; iy++) {
            for (int ix = x0; ix < x1; ix++) {
                float s = 0.f;
                if (iy < y0 + KH && ix < x0 + KW) {
                    if (!mx) s += g * inv;
                    else if (iy * W + ix == a) s += g;
                }
                dxp[iy * W + ix] = s;
            }
        }
    }
}
// one block per plane
extern "C" __global__ void global_pool_fwd(int mx, const float* x, float* y, int size) {
    const float* xp = x + (i64)blockIdx.x * size;
    __shared__ float best[BLOCK];
    float m = -__int_as_float(0x7f800000);
    double s = 0;
    for (int i = threadIdx.x; i < size; i += BLOCK) {
        m = fmaxf(m, xp[i]);
        s += xp[i];
    }
    best[threadIdx.x] = m;
    s = block_sum(s);
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int t = 1; t < BLOCK; t++) m = fmaxf(m, best[t]);
        y[blockIdx.x] = mx ? m : (float)(s / size);
    }
}
extern "C" __global__ void global_pool_bwd(int mx, const float* x, const float* dy, float* dx, int size) {
    const float* xp = x + (i64)blockIdx.x * size;
    float* dxp = dx + (i64)blockIdx.x * size;
    float d = dy[blockIdx.x];
    __shared__ int arg;
    if (threadIdx.x == 0) {
        int b = 0;
        if (mx) for (int i = 1; i < size; i++) if (xp[i] > xp[b]) b = i;
        arg = b;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < size; i += BLOCK) dxp[i] = mx ? (i == arg ? d : 0.f) : d / size;
}

// ---- batch norm, x [n, c, inner]; one block per channel for reductions ----
extern "C" __global__ void bn_stats(const float* x, int n, int c, int inner, float* mean, float* var) {
    int ch = blockIdx.x;
    i64 m = (i64)n * inner;
    double s = 0;
    for (i64 k = threadIdx.x; k < m; k += BLOCK) {
        i64 b = k / inner, i = k - b * inner;
        s += x[(b * c + ch) * inner + i];
    }
    float mu = (float)(block_sum(s) / m);
    double q = 0;
    for (i64 k = threadIdx.x; k < m; k += BLOCK) {
        i64 b = k / inner, i = k - b * inner;
        double d = x[(b * c + ch) * inner + i] - mu;
        q += d * d;
    }
    q = block_sum(q);
    if (threadIdx.x == 0) { mean[ch] = mu; var[ch] = (float)(q / m); }
}
extern "C" __global__ void bn_fwd(const float* x, const float* mean, const float* var, float eps, const float* gamma,
                                  const float* beta, int n, int c, int inner, float* y) {
    i64 tot = (i64)n * c * inner;
    for (i64 i = TID; i < tot; i += NTHREADS) {
        int ch = (int)((i / inner) % c);
        float std = sqrtf(var[ch] + eps);
        y[i] = (x[i] - mean[ch]) / std * gamma[ch] + beta[ch];
    }
}
extern "C" __global__ void bn_bwd(const float* x, const float* dy, const float* mean, const float* var, float eps,
                                  const float* gamma, int n, int c, int inner, float* dx, float* dgamma, float* dbeta) {
    int ch = blockIdx.x;
    i64 m = (i64)n * inner;
    float mu = mean[ch], std = sqrtf(var[ch] + eps), ga = gamma[ch];
    double sdy = 0, sdyxh = 0, sdxhxmu = 0, sxmu = 0;
    for (i64 k = threadIdx.x; k < m; k += BLOCK) {
        i64 b = k / inner, i = k - b * inner, j = (b * c + ch) * inner + i;
        float xmu = x[j] - mu, d = dy[j];
        sdy += d;
        sdyxh += d * (xmu / std);
        sdxhxmu += d * ga * xmu;
        sxmu += xmu;
    }
    sdy = block_sum(sdy);
    sdyxh = block_sum(sdyxh);
    sdxhxmu = block_sum(sdxhxmu);
    sxmu = block_sum(sxmu);
    double dvar = sdxhxmu * -0.5 * pow((double)std, -3.0);
    double dmu = -(sdy * ga) / std + sxmu * (-2.0 / m) * dvar;
    float k1 = ga / std, k2 = (float)(dvar * 2.0 / m), k3 = (float)(dmu / m);
    for (i64 k = threadIdx.x; k < m; k += BLOCK) {
        i64 b = k / inner, i = k - b * inner, j = (b * c + ch) * inner + i;
        dx[j] = dy[j] * k1 + (x[j] - mu) * k2 + k3;
    }
    if (threadIdx.x == 0) { dgamma[ch] = (float)sdyxh; dbeta[ch] = (float)sdy; }
}
extern "C" __global__ void bn_running(const float* gmean, const float* glob, const float* bmean, const float* bvar,
                                      double decay, int logstd, int c, float* dmean, float* dglob) {
    for (i64 ch = TID; ch < c; ch += NTHREADS) {
        dmean[ch] = (float)((gmean[ch] - bmean[ch]) * (1.0 - decay));
        if (logstd) {
            double s = pow(10.0, (double)glob[ch]), v = s * s;
            double vn = v * decay + bvar[ch] * (1.0 - decay);
            dglob[ch] = (float)(log(v / vn) / (2.0 * log(10.0)));
        } else {
            dglob[ch] = (float)((glob[ch] - bvar[ch]) * (1.0 - decay));
        }
    }
}
extern "C" __global__ void var_from_log10std(const float* l, float* var, int c) {
    for (i64 i = TID; i < c; i += NTHREADS) { double s = pow(10.0, (double)l[i]); var[i] = (float)(s * s); }
}

// ---- softmax / losses: one block, rows strided over threads, deterministic sum ----
__device__ void softmax_row(const float* z, float* p, int cols) {
    float mx = -__int_as_float(0x7f800000);
    for (int j = 0; j < cols; j++) mx = fmaxf(mx, z[j]);
    float s = 0.f;
    for (int j = 0; j < cols; j++) { float e = expf(z[j] - mx); p[j] = e; s += e; }
    for (int j = 0; j < cols; j++) p[j] /= s;
}
extern "C" __global__ void softmax_rows(const float* z, int rows, int cols, float* p) {
    for (i64 r = TID; r < rows; r += NTHREADS) softmax_row(z + r * cols, p + r * cols, cols);
}
extern "C" __global__ void softmax_xent(const float* z, const float* y, int rows, int cols, float* p, float* dz,
                                        float* loss) {
    double tot = 0;
    for (i64 r = threadIdx.x; r < rows; r += BLOCK) {
        softmax_row(z + r * cols, p + r * cols, cols);
        for (int j = 0; j < cols; j++) {
            i64 k = r * cols + j;
            float pc = fminf(1.f - 1e-10f, fmaxf(1e-10f, p[k]));
            tot -= y[k] * log((double)pc);
            dz[k] = p[k] - y[k];
        }
    }
    tot = block_sum(tot);
    if (threadIdx.x == 0) loss[0] = (float)tot;
}
extern "C" __global__ void mse_loss(const float* out, const float* y, int rows, int cols, float* dz, float* loss) {
    double tot = 0;
    i64 n = (i64)rows * cols;
    for (i64 k = threadIdx.x; k < n; k += BLOCK) {
        float d = out[k] - y[k];
        tot += (double)d * d / cols;
        dz[k] = 2.f * d / cols;
    }
    tot = block_sum(tot);
    if (threadIdx.x == 0) loss[0] = (float)tot;
}

// ---- gradient normalisation (one block: deterministic) ----
extern "C" __global__ void sum_squares(const float* x, i64 n, float* acc) {
    double s = 0;
    for (i64 i = threadIdx.x; i < n; i += BLOCK) s += (double)x[i] * x[i];
    s = block_sum(s);
    if (threadIdx.x == 0) acc[0] += (float)s;
}
extern "C" __global__ void norm_scale(float* x, i64 n, const float* sumsq, double threshold, int clip) {
    double norm = sqrt((double)sumsq[0]);
    float f = clip ? (norm > threshold ? (float)(threshold / norm) : 1.f) : (norm > 0 ? (float)(1.0 / norm) : 1.f);
    for (i64 i = TID; i < n; i += NTHREADS) x[i] *= f;
}

// ---- updaters (ND4J's native formulas) ----
extern "C" __global__ void adam_step(float* g, float* m, float* v, i64 n, float alphat, float b1, float b2, float eps) {
    // every product and sum rounded on its own (__f*_rn are never fused into FMAs): the same bits as DL4J's CPU
    // updater, so a CPU and a CUDA replica that apply one all-reduced gradient stay identical
    for (i64 i = TID; i < n; i += NTHREADS) {
        float gi = g[i];
        float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(gi, 1.f - b1));
        float vi = __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(__fmul_rn(gi, gi), 1.f - b2));
        m[i] = mi;
        v[i] = vi;
        g[i] = __fdiv_rn(__fmul_rn(mi, alphat), __fadd_rn(__fsqrt_rn(vi), eps));
    }
}
extern "C" __global__ void nesterovs_step(float* g, float* v, i64 n, float lr, float mu) {
    for (i64 i = TID; i < n; i += NTHREADS) { // unfused, as adam_step
        float prev = v[i];
        float next = __fsub_rn(__fmul_rn(mu, prev), __fmul_rn(lr, g[i]));
        v[i] = next;
        g[i] = __fadd_rn(__fmul_rn(mu, prev), __fmul_rn(-mu - 1.f, next));
    }
}
