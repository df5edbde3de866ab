// Quantization, cast, dequantization and im2col kernels for io.qsync.lowprec.cuda.QuantKernels.
// Compiled at run time by NVRTC for the device's own architecture. Every rounding function is a line-by-line port
// of the CPU emulation (io.qsync.lowprec.FloatRounding / FloatCodec / CounterRng / quant.Int8Quantizer), written
// with explicitly rounded intrinsics (__fadd_rn, __fmul_rn, __fdiv_rn) so no FMA contraction can change a result:
// the GPU codes are bit-identical to the CPU ones.
typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef signed char i8;

#define TID ((i64)blockIdx.x * blockDim.x + threadIdx.x)
#define NTHREADS ((i64)gridDim.x * blockDim.x)
#define F_INF __int_as_float(0x7f800000)
#define F_NAN __int_as_float(0x7fc00000)

// ---- CounterRng (SplitMix64 of seed, stream, index) ----
__device__ __forceinline__ u64 mix64(u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
// The (seed, stream) half of the hash is the same for every element of a launch: computed once per thread.
__device__ __forceinline__ u64 rng_key(u64 seed, u64 stream) {
    return mix64(seed ^ 0x9E3779B97F4A7C15ULL * (stream + 1ULL));
}
__device__ __forceinline__ float rng_uniform_k(u64 key, u64 index) {
    u64 z = mix64(key + 0x9E3779B97F4A7C15ULL * (index + 1ULL));
    return __fmul_rn((float)(z >> 40), 5.9604644775390625e-8f);
}
__device__ __forceinline__ float rng_uniform(u64 seed, u64 stream, u64 index) {
    return rng_uniform_k(rng_key(seed, stream), index);
}
// 2^e as a float for e in [-126, 127] (exact scaling, cheaper than ldexpf).
__device__ __forceinline__ float pow2f(int e) { return __int_as_float((e + 127) << 23); }

// ---- stochastic-rounding uniforms (CounterRng.roundingUniform) ----
// One 64-bit hash per group of four consecutive elements: element i takes the 16-bit field i mod 4 (lowest first) of
// mix64(key + GOLDEN·(i/4 + 1)) = CounterRng.bits(seed, stream, i / 4), and u = (field + 1/2)·2^-16. The float is
// assembled from bits: 0x43000000 | field is 128 + field·2^-16 exactly, and subtracting 128 - 2^-17 is exact
// (Sterbenz), giving (2·field + 1)·2^-17 as the CPU's (2·field + 1) * 0x1p-17f.
#define GOLDEN 0x9E3779B97F4A7C15ULL
__device__ __forceinline__ float u16_unit(u32 bits) { return __fsub_rn(__uint_as_float(bits), 127.99999237060546875f); }
// The uniforms of elements 4g .. 4g+3 (one hash, one byte permute and one subtraction per element).
__device__ __forceinline__ void rng_round4(u64 key, u64 g, float (&u)[4]) {
    u64 h = mix64(key + GOLDEN * (g + 1ULL));
    u32 lo = (u32)h, hi = (u32)(h >> 32);
    u[0] = u16_unit(__byte_perm(lo, 0x43000000u, 0x7610));
    u[1] = u16_unit(__byte_perm(lo, 0x43000000u, 0x7632));
    u[2] = u16_unit(__byte_perm(hi, 0x43000000u, 0x7610));
    u[3] = u16_unit(__byte_perm(hi, 0x43000000u, 0x7632));
}
// The uniform of element idx alone (scalar paths).
__device__ __forceinline__ float rng_round1(u64 key, u64 idx) {
    u64 h = mix64(key + GOLDEN * ((idx >> 2) + 1ULL));
    return u16_unit(0x43000000u | ((u32)(h >> ((idx & 3u) * 16u)) & 0xFFFFu));
}

// Correctly rounded x / s without the division routine: r = RN(1/s) once per thread, then q0 = x·r and two
// Markstein corrections (residuals exact by FMA). The second correction starts from a faithful quotient, so by
// Markstein's theorem the result is RN(x/s), as __fdiv_rn / Java's float division. Valid while nothing under- or
// overflows: s and |x| in [2^-60, 2^60); `ok` is cleared otherwise and the caller falls back to __fdiv_rn.
struct Recip { float s, r; bool ok; };
__device__ __forceinline__ Recip recip_of(float s) {
    Recip d;
    d.s = s;
    d.r = __frcp_rn(s);
    d.ok = __float_as_uint(s) - 0x21800000u < 0x3C000000u;
    return d;
}
__device__ __forceinline__ float div_fast(float x, const Recip& d, bool& ok) {
    float q = __fmul_rn(x, d.r);
    float e = __fmaf_rn(-d.s, q, x);
    q = __fmaf_rn(e, d.r, q);
    e = __fmaf_rn(-d.s, q, x);
    q = __fmaf_rn(e, d.r, q);
    ok = ok && ((__float_as_uint(x) & 0x7fffffffu) - 0x21800000u < 0x3C000000u);
    return q;
}
// Byte of an integral float in [-128, 127] (two's complement) without a float-to-int conversion.
__device__ __forceinline__ u32 i8_byte(float q) { return __float_as_uint(__fadd_rn(q, 12582912.f)) & 0xFFu; }

// ---- scales (Int8Quantizer.scaleFor, Fp8Quantizer) ----
__device__ __forceinline__ float scale_for(float amax, float qmax) {
    return (amax > 0.f && amax < F_INF) ? __fdiv_rn(amax, qmax) : 1.f;
}
// INT8 code of one value already divided by the scale (Int8Quantizer.rawCode, then the clamp of Int8Quantizer.code);
// mode 0/1/2 = truncate/nearest/stochastic. The scalar path (tails, unaligned rows); quant4_i8 is the vector one.
__device__ __forceinline__ float raw_i8(float v, int mode, u64 key, u64 idx) {
    if (mode == 0) return truncf(v);
    if (mode == 1) return rintf(v);
    return floorf(__fadd_rn(v, rng_round1(key, idx)));
}
__device__ __forceinline__ float clamp_i8(float q) { return fmaxf(-127.f, fminf(127.f, q)); }
__device__ __forceinline__ float code_i8(float v, int mode, u64 key, u64 idx) { return clamp_i8(raw_i8(v, mode, key, idx)); }
__device__ __noinline__ float4 div4_slow(float4 v, float s) {
    return make_float4(__fdiv_rn(v.x, s), __fdiv_rn(v.y, s), __fdiv_rn(v.z, s), __fdiv_rn(v.w, s));
}
// The four elements of group g (element index 4g .. 4g+3) to four INT8 codes packed in a word; MODE 0/1/2 =
// truncate/nearest/stochastic, a compile-time constant. sat += how many raw (pre-clamp) codes lie beyond ±127
// (delayed scaling); callers that ignore it use the overload below, where that count is dead code.
// Stochastic: y = RN(a + u); floor(y) beyond ±127 <=> y >= 128 or y < -127; and floor commutes with the clamp to
// [-127, 127], so the code byte is that of RD(clamp(y) + 1.5·2^23) = floor(clamp(y)) + 1.5·2^23 (exact: the sum lies
// where floats are the integers), one add instead of floor + the magic add of i8_byte.
template <int MODE> __device__ __forceinline__ u32 quant4_i8(float4 v, const Recip& d, u64 key, u64 g, u32& sat) {
    bool ok = d.ok;
    float a[4];
    a[0] = div_fast(v.x, d, ok); a[1] = div_fast(v.y, d, ok); a[2] = div_fast(v.z, d, ok); a[3] = div_fast(v.w, d, ok);
    if (!ok) { float4 t = div4_slow(v, d.s); a[0] = t.x; a[1] = t.y; a[2] = t.z; a[3] = t.w; }
    float u[4] = {0.f, 0.f, 0.f, 0.f};
    if (MODE == 2) rng_round4(key, g, u);
    u32 w = 0;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        u32 byte;
        if (MODE == 2) {
            float y = __fadd_rn(a[k], u[k]);
            sat += (y >= 128.f || y < -127.f) ? 1u : 0u;
            byte = __float_as_uint(__fadd_rd(clamp_i8(y), 12582912.f)) & 0xFFu;
        } else {
            float q = MODE == 0 ? truncf(a[k]) : rintf(a[k]);
            sat += (fabsf(q) > 127.f) ? 1u : 0u;
            byte = i8_byte(clamp_i8(q));
        }
        w |= byte << (8 * k);
    }
    return w;
}
template <int MODE> __device__ __forceinline__ u32 quant4_i8(float4 v, const Recip& d, u64 key, u64 g) {
    u32 unused = 0;
    return quant4_i8<MODE>(v, d, key, g, unused);
}
#define MODE_DISPATCH(CALL) do { if (mode == 0) { CALL(0); } else if (mode == 1) { CALL(1); } else { CALL(2); } } while (0)

// ---- FloatRounding / FloatCodec ----
__device__ __forceinline__ u32 rne_bits(u32 bits, int drop) {
    u32 lsb = (bits >> drop) & 1u;
    u32 r = bits + ((1u << (drop - 1)) - 1u) + lsb;
    return r & ~((1u << drop) - 1u);
}
__device__ __forceinline__ float round_tf32(float x) {
    if (x != x) return x;
    return __uint_as_float(rne_bits(__float_as_uint(x), 13));
}
__device__ __forceinline__ float round_small(float x, int drop, float minNormal, float magic, float maxv, bool hasInf) {
    float ax = fabsf(x);
    if (ax >= minNormal) {
        if (ax == F_INF) return hasInf ? x : copysignf(maxv, x);
        float r = __uint_as_float(rne_bits(__float_as_uint(ax), drop));
        if (r > maxv) r = hasInf ? F_INF : maxv;
        return copysignf(r, x);
    }
    if (x != x) return x;
    float r = __fsub_rn(__fadd_rn(ax, magic), magic);
    return copysignf(r, x);
}
__device__ __forceinline__ u32 encode_small(float r, int m, int bias, u32 qnan) {
    u32 signBit = 1u << (m + (bias == 7 ? 4 : 5));
    u32 sign = (__float_as_uint(r) >> 31) ? signBit : 0u;
    if (r != r) return sign | qnan;
    u32 expAllOnes = bias == 7 ? 15u : 31u;
    float a = fabsf(r);
    if (a == F_INF) return sign | (expAllOnes << m);
    int e = (int)((__float_as_uint(a) >> 23) & 0xff) - 127;
    if (a == 0.f || e < 1 - bias) return sign | (u32)__fmul_rn(a, pow2f(m + bias - 1));
    u32 mant = (__float_as_uint(a) >> (23 - m)) & ((1u << m) - 1u);
    return sign | ((u32)(e + bias) << m) | mant;
}
__device__ __forceinline__ float decode_small(u32 bits, int m, int eBits, bool hasInf) {
    int bias = (1 << (eBits - 1)) - 1;
    u32 sign = (bits >> (m + eBits)) & 1u;
    u32 ex = (bits >> m) & ((1u << eBits) - 1u);
    u32 mant = bits & ((1u << m) - 1u);
    u32 all = (1u << eBits) - 1u;
    float v;
    if (hasInf && ex == all) v = mant == 0 ? F_INF : F_NAN;
    else if (!hasInf && ex == all && mant == (1u << m) - 1u) v = F_NAN;
    else if (ex == 0) v = __fmul_rn((float)mant, pow2f(1 - bias - m));
    else v = __fmul_rn((float)((1u << m) | mant), pow2f((int)ex - bias - m));
    return sign ? -v : v;
}
// Hardware conversions (cvt.rn.*: round to nearest even, subnormals kept) where they agree bit for bit with the CPU
// emulation; the ported scalar code handles what they treat differently (NaN payloads, E5M2 overflow to infinity,
// E4M3 saturation; all values at or beyond the largest finite value take the scalar path).
__device__ __forceinline__ u16 enc_f16_sw(float x) { return (u16)encode_small(round_small(x, 13, 6.103515625e-05f, 0.5f, 65504.f, true), 10, 15, 0x7E00u); }
__device__ __forceinline__ u16 enc_f16(float x) {
    if (!(fabsf(x) < 65504.f)) return enc_f16_sw(x);
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
    return h;
}
__device__ __forceinline__ u16 enc_bf16(float x) {
    u32 b = __float_as_uint(x);
    if (x != x) return (u16)(((b >> 16) & 0x8000u) | 0x7FC0u);
    return (u16)(rne_bits(b, 16) >> 16);
}
__device__ __forceinline__ u8 enc_e4m3_sw(float x) { return (u8)encode_small(round_small(x, 20, 0.015625f, 16384.f, 448.f, false), 3, 7, 0x7Fu); }
__device__ __forceinline__ u8 enc_e5m2_sw(float x) { return (u8)encode_small(round_small(x, 21, 6.103515625e-05f, 128.f, 57344.f, true), 2, 15, 0x7Eu); }
#if __CUDA_ARCH__ >= 890
__device__ __forceinline__ u8 enc_e4m3(float x) {
    if (!(fabsf(x) < 448.f)) return enc_e4m3_sw(x);
    unsigned short h;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(h) : "f"(0.f), "f"(x));
    return (u8)(h & 0xFF);
}
__device__ __forceinline__ u8 enc_e5m2(float x) {
    if (!(fabsf(x) < 57344.f)) return enc_e5m2_sw(x);
    unsigned short h;
    asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(h) : "f"(0.f), "f"(x));
    return (u8)(h & 0xFF);
}
#else
__device__ __forceinline__ u8 enc_e4m3(float x) { return enc_e4m3_sw(x); }
__device__ __forceinline__ u8 enc_e5m2(float x) { return enc_e5m2_sw(x); }
#endif
__device__ __forceinline__ float dec_f16(u16 b) { return decode_small(b, 10, 5, true); }
__device__ __forceinline__ float dec_bf16(u16 b) { return __uint_as_float(((u32)b) << 16); }
__device__ __forceinline__ float dec_fp8(u8 b, int fmt) { return fmt == 0 ? decode_small(b, 3, 4, false) : decode_small(b, 2, 5, true); }
__device__ __forceinline__ u16 enc16(float x, int fmt) { return fmt == 0 ? enc_f16(x) : enc_bf16(x); }
__device__ __forceinline__ float dec16(u16 b, int fmt) { return fmt == 0 ? dec_f16(b) : dec_bf16(b); }
__device__ __forceinline__ u8 enc_fp8(float x, int fmt) { return fmt == 0 ? enc_e4m3(x) : enc_e5m2(x); }

// ---- reductions ----
__device__ __forceinline__ float warp_max(float m) {
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    return m;
}
// Warp-wide sum, returned to every lane: one redux instruction from sm_80, shuffles before it (sm_75, the T4).
__device__ __forceinline__ u32 warp_sum(u32 v) {
#if __CUDA_ARCH__ >= 800
    return __reduce_add_sync(0xffffffffu, v);
#else
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
#endif
}
// Block-wide max, returned to every thread.
__device__ float block_max(float m) {
    __shared__ float part[32];
    __shared__ float result;
    m = warp_max(m);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) part[w] = m;
    __syncthreads();
    if (w == 0) {
        m = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.f;
        m = warp_max(m);
        if (lane == 0) result = m;
    }
    __syncthreads();
    return result;
}

// ---- vectorised loops (bounds, vector width, ILP and scalar tail in one place; each kernel states its element op) ----
#define ILP 4
// Grid- or block-stride loop over n4 float4 groups. Each step first loads ILP independent float4s (groups
// base + k·stride, k < ILP: 64 B in flight per thread), then hands them to step(v, base). FILL: groups at or past n4
// load as zeros (harmless for a max over every k); otherwise they are left unset and store_ilp skips them.
// start/stride: TID/NTHREADS for the whole grid, threadIdx.x/blockDim.x for one block (S: i64 or unsigned).
template <bool FILL, class S, class Step>
__device__ __forceinline__ void for_ilp(const float4* __restrict__ x4, i64 n4, i64 start, S stride, Step step) {
    for (i64 base = start; base < n4; base += (i64)stride * ILP) {
        float4 v[ILP];
#pragma unroll
        for (int k = 0; k < ILP; k++) {
            i64 i = base + k * stride;
            if (FILL) v[k] = i < n4 ? x4[i] : make_float4(0.f, 0.f, 0.f, 0.f);
            else if (i < n4) v[k] = x4[i];
        }
        step(v, base);
    }
}
// max(m, max |x| over the step's ILP float4s).
__device__ __forceinline__ float amax_ilp(float m, const float4 (&v)[ILP]) {
#pragma unroll
    for (int k = 0; k < ILP; k++)
        m = fmaxf(m, fmaxf(fmaxf(fabsf(v[k].x), fabsf(v[k].y)), fmaxf(fabsf(v[k].z), fabsf(v[k].w))));
    return m;
}
// out[i] = f(v[k], i) for the step's groups i = base + k·stride below n4 (four 8-bit codes per 32-bit word).
template <class S, class F>
__device__ __forceinline__ void store_ilp(u32* __restrict__ out, i64 n4, i64 base, S stride, const float4 (&v)[ILP], F f) {
#pragma unroll
    for (int k = 0; k < ILP; k++) { i64 i = base + k * stride; if (i < n4) out[i] = f(v[k], i); }
}
// f(i) for the scalar tail i = 4·(n/4) .. n-1 of a grid-stride vectorised loop.
template <class F> __device__ __forceinline__ void for_tail(i64 n, F f) {
    for (i64 i = (n >> 2) * 4 + TID; i < n; i += NTHREADS) f(i);
}
// y[i] = f(x[i]) for i < n: one 4-vector load and store (IN4, OUT4: the vector types of IN, OUT) per group of four,
// grid-stride, then the scalar tail.
template <class IN4, class OUT4, class IN, class OUT, class F>
__device__ __forceinline__ void map4(const IN* __restrict__ x, OUT* __restrict__ y, i64 n, F f) {
    i64 n4 = n >> 2;
    for (i64 i = TID; i < n4; i += NTHREADS) {
        IN4 v = ((const IN4*)x)[i];
        OUT4 o;
        o.x = f(v.x); o.y = f(v.y); o.z = f(v.z); o.w = f(v.w);
        ((OUT4*)y)[i] = o;
    }
    for_tail(n, [&](i64 i) { y[i] = f(x[i]); });
}

// amax = max |x| as float bits (non-negative floats order like unsigned ints); *out must be 0 before the launch.
extern "C" __global__ void __launch_bounds__(256) amax_f32(const float* __restrict__ x, i64 n, u32* __restrict__ out) {
    float m = 0.f;
    for_ilp<true>((const float4*)x, n >> 2, TID, NTHREADS, [&](const float4 (&v)[ILP], i64) { m = amax_ilp(m, v); });
    for_tail(n, [&](i64 i) { m = fmaxf(m, fabsf(x[i])); });
    m = block_max(m);
    if (threadIdx.x == 0) atomicMax(out, __float_as_uint(m));
}

// Per-tensor INT8 quantization; the scale is computed on the device from *amax (no host round trip) and written.
extern "C" __global__ void __launch_bounds__(256, 4) quant_i8_tensor(const float* __restrict__ x, i8* __restrict__ q, i64 n,
        const u32* __restrict__ amax, float* __restrict__ scale_out, int mode, u64 seed, u64 stream) {
    float s = scale_for(__uint_as_float(*amax), 127.f);
    Recip d = recip_of(s);
    u64 key = rng_key(seed, stream);
    if (blockIdx.x == 0 && threadIdx.x == 0) *scale_out = s;
    i64 n4 = n >> 2;
    for_ilp<false>((const float4*)x, n4, TID, NTHREADS, [&](const float4 (&v)[ILP], i64 base) {
#define QT(M) store_ilp((u32*)q, n4, base, NTHREADS, v, [&](float4 a, i64 i) { return quant4_i8<M>(a, d, key, (u64)i); })
        MODE_DISPATCH(QT);
#undef QT
    });
    for_tail(n, [&](i64 i) { q[i] = (i8)code_i8(__fdiv_rn(x[i], s), mode, key, (u64)i); });
}

// Per-tensor INT8 quantization with the DELAYED scale and this call's amax fused into the same pass (one read of x).
// hist: ring of `slots` = H + 2 amax words (float bits). This call writes slot wslot (atomic max; zero on entry),
// zeroes slot (wslot + 1) % slots (the next call's write slot) and takes its scale from the max over the other H
// slots (the previous H calls' amaxes) and *extra when not null (the first call: the tensor's own amax from
// amax_f32, so the first call is QSync's dynamic quantization). *sat (u64) accumulates the saturated elements.
extern "C" __global__ void __launch_bounds__(256, 4) quant_i8_delayed(const float* __restrict__ x, i8* __restrict__ q, i64 n,
        u32* hist, int slots, int wslot, const u32* __restrict__ extra, float* __restrict__ scale_out,
        unsigned long long* __restrict__ sat, int mode, u64 seed, u64 stream) {
    int zslot = wslot + 1 == slots ? 0 : wslot + 1;
    float am = extra ? __uint_as_float(*extra) : 0.f;
    for (int j = 0; j < slots; j++)
        if (j != wslot && j != zslot) am = fmaxf(am, __uint_as_float(hist[j]));
    float s = scale_for(am, 127.f);
    Recip d = recip_of(s);
    u64 key = rng_key(seed, stream);
    if (blockIdx.x == 0 && threadIdx.x == 0) { *scale_out = s; hist[zslot] = 0u; }
    float m = 0.f;
    u32 cnt = 0;
    i64 n4 = n >> 2;
    for_ilp<true>((const float4*)x, n4, TID, NTHREADS, [&](const float4 (&v)[ILP], i64 base) {
        m = amax_ilp(m, v);
#define QD(M) store_ilp((u32*)q, n4, base, NTHREADS, v, [&](float4 a, i64 i) { return quant4_i8<M>(a, d, key, (u64)i, cnt); })
        MODE_DISPATCH(QD);
#undef QD
    });
    for_tail(n, [&](i64 i) {
        float xv = x[i];
        m = fmaxf(m, fabsf(xv));
        float qv = raw_i8(__fdiv_rn(xv, s), mode, key, (u64)i);
        cnt += (fabsf(qv) > 127.f) ? 1u : 0u;
        q[i] = (i8)clamp_i8(qv);
    });
    m = block_max(m);
    if (threadIdx.x == 0) atomicMax(hist + wslot, __float_as_uint(m));
    cnt = warp_sum(cnt);
    if ((threadIdx.x & 31) == 0 && cnt) atomicAdd(sat, (unsigned long long)cnt);
}

// Per-row (per-output-channel of a [rows, cols] weight) INT8 quantization, amax and codes fused: one block per row.
extern "C" __global__ void __launch_bounds__(256, 4) quant_i8_rows(const float* __restrict__ x, i8* __restrict__ q, int rows, i64 cols,
        float* __restrict__ scales, int mode, u64 seed, u64 stream) {
    int r = blockIdx.x;
    u64 key = rng_key(seed, stream);
    const float* xr = x + (i64)r * cols;
    i8* qr = q + (i64)r * cols;
    float m = 0.f;
    if ((cols & 3) == 0 && (((size_t)xr) & 15) == 0) {
        const float4* x4 = (const float4*)xr;
        i64 c4 = cols >> 2;
        for_ilp<true>(x4, c4, threadIdx.x, blockDim.x, [&](const float4 (&v)[ILP], i64) { m = amax_ilp(m, v); });
        float s = scale_for(block_max(m), 127.f);
        Recip d = recip_of(s);
        if (threadIdx.x == 0) scales[r] = s;
        u64 g0 = (u64)((i64)r * c4);   // group index of the row's first element (cols % 4 == 0)
        for_ilp<false>(x4, c4, threadIdx.x, blockDim.x, [&](const float4 (&v)[ILP], i64 base) {
#define QR(M) store_ilp((u32*)qr, c4, base, blockDim.x, v, [&](float4 a, i64 j) { return quant4_i8<M>(a, d, key, g0 + (u64)j); })
            MODE_DISPATCH(QR);
#undef QR
        });
        return;
    }
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, fabsf(xr[j]));
    float s = scale_for(block_max(m), 127.f);
    if (threadIdx.x == 0) scales[r] = s;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x)
        qr[j] = (i8)code_i8(__fdiv_rn(xr[j], s), mode, key, (u64)((i64)r * cols + j));
}

// INT32 accumulator -> FP32: out = (float)acc * (sx * sw[col or 0]) (+ bias[col]); the dequantization epilogue.
extern "C" __global__ void dequant_i32(const int* __restrict__ acc, float* __restrict__ out, i64 rows, int cols,
        const float* __restrict__ sx, const float* __restrict__ sw, int per_channel, const float* __restrict__ bias) {
    i64 n = rows * cols;
    float sxv = *sx;
    float swv = sw[0];
    if ((cols & 3) == 0) {
        float s0 = __fmul_rn(sxv, swv);
        for (i64 i = TID; i < (n >> 2); i += NTHREADS) {
            int4 a = ((const int4*)acc)[i];
            int c = (int)((i * 4) % cols);
            float4 v;
            if (per_channel) {
                v = make_float4(__fmul_rn((float)a.x, __fmul_rn(sxv, sw[c])), __fmul_rn((float)a.y, __fmul_rn(sxv, sw[c + 1])),
                                __fmul_rn((float)a.z, __fmul_rn(sxv, sw[c + 2])), __fmul_rn((float)a.w, __fmul_rn(sxv, sw[c + 3])));
            } else {
                v = make_float4(__fmul_rn((float)a.x, s0), __fmul_rn((float)a.y, s0), __fmul_rn((float)a.z, s0), __fmul_rn((float)a.w, s0));
            }
            if (bias) {
                v.x = __fadd_rn(v.x, bias[c]); v.y = __fadd_rn(v.y, bias[c + 1]);
                v.z = __fadd_rn(v.z, bias[c + 2]); v.w = __fadd_rn(v.w, bias[c + 3]);
            }
            ((float4*)out)[i] = v;
        }
        return;
    }
    for (i64 i = TID; i < n; i += NTHREADS) {
        int c = (int)(i % cols);
        float s = __fmul_rn(sxv, per_channel ? sw[c] : swv);
        float v = __fmul_rn((float)acc[i], s);
        if (bias) v = __fadd_rn(v, bias[c]);
        out[i] = v;
    }
}

// INT8 codes -> FP32 (out_fmt 0), FP16 bits (1) or FP32 holding the FP16 value (2: the INT8 layer's backward operands
// for TF32 tensor cores): code * scale[channel]; channel = (i / inner) % channels.
extern "C" __global__ void dequant_i8(const i8* __restrict__ q, void* __restrict__ out, i64 n, i64 inner, int channels,
        const float* __restrict__ scales, int out_fmt) {
    float s0 = scales[0];
    if (channels == 1 && out_fmt == 1) {
        map4<char4, ushort4>(q, (u16*)out, n, [&](i8 c) { return enc_f16(__fmul_rn((float)c, s0)); });
        return;
    }
    if (channels == 1 && out_fmt == 0) {
        map4<char4, float4>(q, (float*)out, n, [&](i8 c) { return __fmul_rn((float)c, s0); });
        return;
    }
    if (channels == 1 && out_fmt == 2) {
        map4<char4, float4>(q, (float*)out, n, [&](i8 c) { return dec16(enc_f16(__fmul_rn((float)c, s0)), 0); });
        return;
    }
    for (i64 i = TID; i < n; i += NTHREADS) {
        float s = channels == 1 ? s0 : scales[(i / inner) % channels];
        float v = __fmul_rn((float)q[i], s);
        if (out_fmt == 0) ((float*)out)[i] = v;
        else if (out_fmt == 1) ((u16*)out)[i] = enc_f16(v);
        else ((float*)out)[i] = dec16(enc_f16(v), 0);
    }
}

// INT32 accumulators [C, B*P] of a convolution's INT8 GEMM (weights x columns) -> NCHW FP32 [B, C, P]:
// out[b, c, p] = (float) acc[c, b*P + p] * (sw * sx), the rounding of dequant_i32.
extern "C" __global__ void dequant_i32_nchw(const int* __restrict__ acc, float* __restrict__ out, int B, int C, i64 P,
        const float* __restrict__ sw, const float* __restrict__ sx) {
    float s = __fmul_rn(*sw, *sx);
    i64 n = (i64)B * C * P;
    for (i64 t = TID; t < n; t += NTHREADS) {
        i64 p = t % P;
        i64 bc = t / P;
        int c = (int)(bc % C);
        i64 b = bc / C;
        out[t] = __fmul_rn((float)acc[(i64)c * B * P + b * P + p], s);
    }
}

// FP32 -> TF32 (kept in 4 bytes), RNE.
extern "C" __global__ void cast_f32_tf32(const float* __restrict__ x, float* __restrict__ y, i64 n) {
    map4<float4, float4>(x, y, n, [](float v) { return round_tf32(v); });
}

// FP32 -> FP16 (fmt 0) or BF16 (fmt 1) bits, RNE.
extern "C" __global__ void cast_f32_16(const float* __restrict__ x, u16* __restrict__ y, i64 n, int fmt) {
    map4<float4, ushort4>(x, y, n, [&](float v) { return enc16(v, fmt); });
}

// Per image b (grid y): x [R][S] -> y [S][R], each value converted on the way in (load, into an FP32 tile) and out
// (store). 32x32 tiles through shared memory (both sides coalesced); 256 threads as 8 rows of 32; blockIdx.x = tile
// row * tilesS + tile column.
template <typename TI, typename TO, typename L, typename St>
__device__ __forceinline__ void transpose32(const TI* __restrict__ x, TO* __restrict__ y, int R, int S, int tilesS,
                                            L load, St store) {
    __shared__ float tile[32][33];
    int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
    int r0 = (blockIdx.x / tilesS) * 32, s0 = (blockIdx.x % tilesS) * 32;
    const TI* xb = x + (i64)blockIdx.y * R * S;
    TO* yb = y + (i64)blockIdx.y * R * S;
    for (int k = ty; k < 32; k += 8) {
        int r = r0 + k, c = s0 + tx;
        if (r < R && c < S) tile[k][tx] = load(xb[(i64)r * S + c]);
    }
    __syncthreads();
    for (int k = ty; k < 32; k += 8) {
        int c = s0 + k, r = r0 + tx;
        if (c < S && r < R) yb[(i64)c * R + r] = store(tile[tx][k]);
    }
}

// FP32 -> FP16 (fmt 0) / BF16 (fmt 1) bits, RNE, NCHW -> NHWC: per image R = C, S = H*W (filters: KCRS -> KRSC).
extern "C" __global__ void __launch_bounds__(256) cast_f32_16_t(const float* __restrict__ x, u16* __restrict__ y,
                                                                int R, int S, int tilesS, int fmt) {
    transpose32(x, y, R, S, tilesS, [](float v) { return v; }, [&](float v) { return enc16(v, fmt); });
}

// The inverse, exact: FP16 / BF16 bits -> FP32, NHWC -> NCHW (per image R = H*W, S = C).
extern "C" __global__ void __launch_bounds__(256) cast_16_f32_t(const u16* __restrict__ x, float* __restrict__ y,
                                                                int R, int S, int tilesS, int fmt) {
    transpose32(x, y, R, S, tilesS, [&](u16 b) { return dec16(b, fmt); }, [](float v) { return v; });
}

// FP32 -> FP32 holding the nearest FP16 (fmt 0) / BF16 (fmt 1) value, RNE: the operands of an FP16/BF16 layer run on
// TF32 tensor cores (both formats fit TF32 exactly, and so do the products in FP32).
extern "C" __global__ void round_f32_16(const float* __restrict__ x, float* __restrict__ y, i64 n, int fmt) {
    map4<float4, float4>(x, y, n, [&](float v) { return dec16(enc16(v, fmt), fmt); });
}

// FP16 / BF16 bits -> FP32 (exact).
extern "C" __global__ void cast_16_f32(const u16* __restrict__ x, float* __restrict__ y, i64 n, int fmt) {
    map4<ushort4, float4>(x, y, n, [&](u16 b) { return dec16(b, fmt); });
}

// FP32 -> FP8 E4M3 (fmt 0) / E5M2 (fmt 1), amax-scaled when amax != null (scale = amax / maxFinite, written to
// scale_out when not null), else unscaled.
// FP8 code of a finite |a| < max finite, branch-free integer RNE (the same rounding as round_small + encode_small):
// normal range: round the float's bits to 3 (E4M3) / 2 (E5M2) mantissa bits and rebias the exponent; subnormal
// range: the magic-number add rounds to the subnormal step and leaves the code in the low mantissa bits.
template <int FMT> __device__ __forceinline__ u32 enc8_fast(float a) {
    const int drop = FMT == 0 ? 20 : 21;
    const u32 rebias = FMT == 0 ? (120u << 3) : (112u << 2);
    const float minNormal = FMT == 0 ? 0.015625f : 6.103515625e-05f;
    const float magic = FMT == 0 ? 16384.f : 128.f;
    u32 bits = __float_as_uint(a);
    u32 sign = (bits >> 24) & 0x80u;
    u32 abits = bits & 0x7fffffffu;
    float ax = __uint_as_float(abits);
    u32 normal = (rne_bits(abits, drop) >> drop) - rebias;
    u32 sub = __float_as_uint(__fadd_rn(ax, magic)) & 0xFu;
    return sign | (ax >= minNormal ? normal : sub);
}
__device__ __noinline__ u32 quant4_fp8_slow(float4 v, float s, int fmt) {
    return (u32)enc_fp8(__fdiv_rn(v.x, s), fmt) | ((u32)enc_fp8(__fdiv_rn(v.y, s), fmt) << 8)
         | ((u32)enc_fp8(__fdiv_rn(v.z, s), fmt) << 16) | ((u32)enc_fp8(__fdiv_rn(v.w, s), fmt) << 24);
}
// Four elements: fast path (Markstein division, integer encoder) when every quotient is in range, else the
// original scalar path (__fdiv_rn, then the encoder with its fallbacks) for the four.
template <int FMT> __device__ __forceinline__ u32 quant4_fp8(float4 v, const Recip& d) {
    bool ok = d.ok;
    float a0 = div_fast(v.x, d, ok), a1 = div_fast(v.y, d, ok), a2 = div_fast(v.z, d, ok), a3 = div_fast(v.w, d, ok);
    const float mx = FMT == 0 ? 448.f : 57344.f;
    ok = ok && fabsf(a0) < mx && fabsf(a1) < mx && fabsf(a2) < mx && fabsf(a3) < mx;
    if (ok) return enc8_fast<FMT>(a0) | (enc8_fast<FMT>(a1) << 8) | (enc8_fast<FMT>(a2) << 16) | (enc8_fast<FMT>(a3) << 24);
    return quant4_fp8_slow(v, d.s, FMT);
}
template <int FMT> __device__ __forceinline__ void quant_fp8_body(const float* __restrict__ x, u8* __restrict__ y, i64 n, float s) {
    Recip d = recip_of(s);
    i64 n4 = n >> 2;
    for_ilp<false>((const float4*)x, n4, TID, NTHREADS, [&](const float4 (&v)[ILP], i64 base) {
        store_ilp((u32*)y, n4, base, NTHREADS, v, [&](float4 a, i64) { return quant4_fp8<FMT>(a, d); });
    });
    for_tail(n, [&](i64 i) { y[i] = enc_fp8(__fdiv_rn(x[i], s), FMT); });
}
extern "C" __global__ void __launch_bounds__(256) quant_fp8(const float* __restrict__ x, u8* __restrict__ y, i64 n, int fmt,
        const u32* __restrict__ amax, float* __restrict__ scale_out) {
    float s = amax ? scale_for(__uint_as_float(*amax), fmt == 0 ? 448.f : 57344.f) : 1.f;
    if (scale_out && blockIdx.x == 0 && threadIdx.x == 0) *scale_out = s;
    if (fmt == 0) quant_fp8_body<0>(x, y, n, s); else quant_fp8_body<1>(x, y, n, s);
}

// FP8 bits -> FP32, times *scale when scale != null.
extern "C" __global__ void dequant_fp8(const u8* __restrict__ x, float* __restrict__ y, i64 n, int fmt, const float* __restrict__ scale) {
    float s = scale ? *scale : 1.f;
    map4<uchar4, float4>(x, y, n, [&](u8 b) { float v = dec_fp8(b, fmt); return scale ? __fmul_rn(v, s) : v; });
}

// Byte transpose of a row-major [rows, cols] matrix (FP8/INT8 operands that cuBLASLt needs K-major), 32x32 tiles.
extern "C" __global__ void transpose_b8(const u8* __restrict__ in, u8* __restrict__ out, int rows, int cols) {
    __shared__ u8 tile[32][33];
    int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
    int c0 = blockIdx.x * 32, r0 = blockIdx.y * 32;
    for (int k = ty; k < 32; k += 8) {
        int r = r0 + k, c = c0 + tx;
        if (r < rows && c < cols) tile[k][tx] = in[(i64)r * cols + c];
    }
    __syncthreads();
    for (int k = ty; k < 32; k += 8) {
        int c = c0 + k, r = r0 + tx;
        if (r < rows && c < cols) out[(i64)c * rows + r] = tile[tx][k];
    }
}

// im2col: NCHW input -> row-major [B*Ho*Wo, Kpad], column index c*kh*kw + i*kw + j (the flattened [Cout, Cin, kh, kw]
// weight order), zero padding, columns K..Kpad-1 zero (tensor-core alignment).
#define IM2COL(NAME, T)                                                                                      \
extern "C" __global__ void NAME(const T* __restrict__ x, T* __restrict__ col, int B, int C, int H, int W,     \
        int kh, int kw, int sh, int sw, int ph, int pw, int Ho, int Wo, int Kpad) {                           \
    int K = C * kh * kw;                                                                                      \
    i64 n = (i64)B * Ho * Wo * Kpad;                                                                          \
    for (i64 t = TID; t < n; t += NTHREADS) {                                                                 \
        int k = (int)(t % Kpad);                                                                              \
        i64 row = t / Kpad;                                                                                   \
        T v = (T)0;                                                                                           \
        if (k < K) {                                                                                          \
            int ow = (int)(row % Wo), oh = (int)((row / Wo) % Ho), b = (int)(row / ((i64)Wo * Ho));           \
            int c = k / (kh * kw), ij = k % (kh * kw), i = ij / kw, j = ij % kw;                              \
            int y = oh * sh - ph + i, xx = ow * sw - pw + j;                                                  \
            if (y >= 0 && y < H && xx >= 0 && xx < W) v = x[(((i64)b * C + c) * H + y) * W + xx];             \
        }                                                                                                     \
        col[t] = v;                                                                                           \
    }                                                                                                         \
}
IM2COL(im2col_f32, float)
IM2COL(im2col_i8, i8)

// im2col_i8 for Kpad a multiple of 16 and a 16-byte aligned col: one thread gathers 16 consecutive columns of one row
// (the row's position and the first column's (c, i, j) decoded once, then stepped) and stores them in one 16-byte
// write, so a warp writes 512 contiguous bytes. Same bytes as im2col_i8.
struct __align__(16) u32x4 { u32 a, b, c, d; };
extern "C" __global__ void im2col_i8_x16(const i8* __restrict__ x, i8* __restrict__ col, int B, int C, int H,
        int W, int kh, int kw, int sh, int sw, int ph, int pw, int Ho, int Wo, int Kpad) {
    int K = C * kh * kw, khw = kh * kw, groups = Kpad >> 4;
    i64 n = (i64)B * Ho * Wo * groups;
    u32x4* out = reinterpret_cast<u32x4*>(col);
    for (i64 t = TID; t < n; t += NTHREADS) {
        int g = (int)(t % groups);
        i64 row = t / groups;
        int ow = (int)(row % Wo);
        i64 r2 = row / Wo;
        int oh = (int)(r2 % Ho), b = (int)(r2 / Ho);
        int k = g << 4;
        int c = k / khw, ij = k - c * khw, i = ij / kw, j = ij - i * kw;
        int y0 = oh * sh - ph, x0 = ow * sw - pw;
        const i8* xb = x + (i64)b * C * H * W;
        u32 w[4] = {0u, 0u, 0u, 0u};
#pragma unroll
        for (int q = 0; q < 16; q++) {
            if (k + q < K) {
                int y = y0 + i, xx = x0 + j;
                if (y >= 0 && y < H && xx >= 0 && xx < W) {
                    w[q >> 2] |= ((u32)(u8)xb[((i64)c * H + y) * W + xx]) << ((q & 3) * 8);
                }
                if (++j == kw) {
                    j = 0;
                    if (++i == kh) {
                        i = 0;
                        c++;
                    }
                }
            }
        }
        u32x4 v;
        v.a = w[0];
        v.b = w[1];
        v.c = w[2];
        v.d = w[3];
        out[t] = v;
    }
}

// out[r, c] += bias[c] (FP32), for the float GEMM paths.
extern "C" __global__ void add_bias_f32(float* __restrict__ out, i64 rows, int cols, const float* __restrict__ bias) {
    i64 n = rows * cols;
    for (i64 i = TID; i < n; i += NTHREADS) out[i] = __fadd_rn(out[i], bias[i % cols]);
}

// Benchmark inputs: x[i] = scale * (2u - 1), u from the counter RNG (never zeros: zeros run faster than real data).
extern "C" __global__ void fill_uniform_f32(float* __restrict__ x, i64 n, u64 seed, float scale) {
    for (i64 i = TID; i < n; i += NTHREADS) x[i] = __fmul_rn(scale, __fsub_rn(__fmul_rn(2.f, rng_uniform(seed, 7, (u64)i)), 1.f));
}
