// Fused causal attention (FlashAttention-2) with per-head Hard-ALiBi windows and ALiBi slopes: forward (saves
// lse), backward (rowsum(dO∘O) pre-pass, then one pass per key tile recomputing P from lse), and split-KV decoding.
// Launcher: AttentionKernels.java. The L×L score matrix is never materialized: a block holds one tile of it.
//
// The tiling is EXACTLY that of parrot.backend.cpu.AttentionTiling (the Java model the CPU tests validate against
// the float64 reference); each kernel below names the model method it follows. In brief:
//   - tiles Br query rows × Bc key columns: Br = 64 (32 for hd > 128), Bc = 64 for hd ≤ 64, else 32 (FaTile);
//   - element (q, k) is visible iff k ≤ q < T and, for a window w > 0, k ≥ q − w + 1 (w = 0: plain causal);
//   - forward: grid (B·H, ⌈T/Br⌉); query tile qt walks key tiles firstKey(h, q0)/Bc .. (min(q0+Br, T)−1)/Bc in
//     increasing order (so a windowed head never loads a key tile wholly outside its windows: O(T·w) work);
//     online softmax per row with the −∞ guard m_use = (m == −∞ ? 0 : m), so a row with nothing visible yet gets
//     P = 0, never NaN; O = acc / l, lse = m + log l;
//   - backward: grid (B·H, ⌈T/Bc⌉); key tile kt walks query tiles kt·Bc/Br .. min(T−1, k1+w−1)/Br (T−1/Br for
//     w = 0); P = exp(S − lse), dP = dO·Vᵀ, dS = P∘(dP − D); dV += Pᵀ dO and dK += dSᵀ Q stay in the block, dQ
//     tile = dS·K·scale is atomicAdd'ed (float) into dqkv's q slice;
//   - the mask is evaluated only on tiles that need it (needsMask, uniform per block); elsewhere no compare runs;
//   - the backward walks each query tile in order in sub-tiles of RC (FP32) or BRS (tensor cores) rows, so that Q,
//     dO and dS fit the 48 KiB of static shared memory; sub-tiles made only of padding rows are skipped (the model
//     adds their zeros).
//
// Layouts (parrot.backend.Backend): qkv [B·T, H·3·hd] (per head q | k | v), out and dout [B·T, H·hd], lse and D
// [B, H, T], caches [B, H, maxLen, hd]. Backward kernels ACCUMULATE into dqkv. Scores are
// (q·k)·scale − slope[h]·(q − k), scale = (float) 1/√hd (passed by the launcher).
//
// Precisions (selected by the launcher, PARROT_ATTENTION=fp32|bf16|tf32):
//   *_f32   exact FP32 on CUDA cores; hd 1..256 (padded with zeros to HDP = 32, 64, 128 or 256). The kernels the
//           CPU emulator (emu/) runs against float64 references; the training default.
//   *_bf16  tensor cores, mma.sync.m16n8k16 with BF16 operands (Q, K, V, P, dO, dS rounded to bf16), FP32
//           accumulation, FP32 softmax; hd ≤ 128 (HDP = 32, 64, 128).
//   *_tf32  the same with mma.sync.m16n8k8 TF32 operands (inputs rounded to tf32, cvt.rna).
// The FP32 kernels use expf (as the model); the tensor-core ones __expf (ex2.approx, relative error ~2^-21, far
// below their operand rounding).
// Tensor-core fragments are built with plain 32-bit/16-bit shared-memory loads (no ldmatrix) following the PTX ISA
// fragment layouts; the emulator implements those layouts (emu.h, mma_tile), so the same kernels run there too.
// Inputs and outputs stay float32 in device memory for every precision.
//
// Determinism: unlike the rest of parrot's kernels, the backward's dQ uses float atomics (FlashAttention-2), so dQ
// is reproducible only to float rounding run to run; forward, dK, dV and decode are bitwise reproducible.
// PARROT_ATTENTION=simple selects attention.cu's per-row kernels, which are bitwise reproducible.
#include "common.cuh"
#include <stdint.h>

#define FA_DECODE_SPLIT 128      // AttentionTiling.DEFAULT_SPLIT: keys per chunk of the cache
#define FA_DECODE_THREADS 128    // == FA_DECODE_SPLIT: one thread per key of a chunk (== the launch bounds below)
#define FA_PAD 8                 // shared-memory row padding (elements) of the tensor-core tiles

#ifdef PARROT_EMU
// Tile counters for the emulator tests (one increment per block and tile, by thread 0).
struct FaCounters {
    long long forwardTiles = 0, forwardMaskedTiles = 0, backwardTiles = 0, backwardMaskedTiles = 0, decodeChunks = 0;
};
inline FaCounters fa_counters;
#define FA_COUNT(field) do { if (threadIdx.x == 0) ++fa_counters.field; } while (0)
#else
#define FA_COUNT(field) do { } while (0)
#endif

// ---- tile ranges and masks: AttentionTiling.{firstKeyTile, lastKeyTile, firstQueryTile, lastQueryTile,
// ---- visible, needsMask} ------------------------------------------------------------------------------------

template <int HDP>
struct FaTile {
    static constexpr int BR = HDP <= 128 ? 64 : 32;  // AttentionTiling.defaultBr
    static constexpr int BC = HDP <= 64 ? 64 : 32;   // AttentionTiling.defaultBc
};

__device__ __forceinline__ int fa_first_key(int w, int q) { return w > 0 ? max(0, q - w + 1) : 0; }

__device__ __forceinline__ bool fa_visible(int w, int q, int k, int T) {
    return q < T && k <= q && (w <= 0 || k > q - w);
}

__device__ __forceinline__ bool fa_needs_mask(int w, int q0, int k0, int br, int bc, int T) {
    return q0 + br > T || k0 + bc - 1 > q0 || (w > 0 && (long long)k0 < (long long)q0 + br - w);
}

__device__ __forceinline__ int fa_last_query_tile(int w, int kt, int br, int bc, int T) {
    const int k1 = min(kt * bc + bc, T) - 1;
    long long last = T - 1;
    if (w > 0 && (long long)k1 + w - 1 < last) last = (long long)k1 + w - 1;
    return (int)(last / br);
}

// Sum over groups of N adjacent lanes (N a power of two ≤ 32); the xor butterfly leaves the bitwise-identical
// result in every lane of the group, so the lanes of a row take identical branches on it.
template <int N>
__device__ __forceinline__ float fa_group_sum(float v) {
#pragma unroll
    for (int o = N / 2; o > 0; o >>= 1) v += __shfl_xor_sync(PARROT_FULL_MASK, v, o);
    return v;
}

// rows t0 .. t0+ROWS−1 (those < T) of a [·, ld] float matrix, dims 0..HDP−1 (those < hd), zeros elsewhere. When
// hd % 4 == 0 every row offset is a multiple of 4 floats (ld, the head offsets and d are), so 16-byte loads.
template <int ROWS, int HDP, int NT>
__device__ __forceinline__ void fa_load_rows_f32(float* dst, const float* __restrict__ src, long long ld, int t0,
                                                 int T, int hd) {
    if ((hd & 3) == 0) {
        for (int i = threadIdx.x; i < ROWS * HDP / 4; i += NT) {
            const int r = i / (HDP / 4), d = 4 * (i % (HDP / 4)), t = t0 + r;
            float4 v;
            v.x = v.y = v.z = v.w = 0.0f;
            if (t < T && d < hd) v = *reinterpret_cast<const float4*>(src + (long long)t * ld + d);
            *reinterpret_cast<float4*>(dst + r * HDP + d) = v;
        }
    } else {
        for (int i = threadIdx.x; i < ROWS * HDP; i += NT) {
            const int r = i / HDP, d = i % HDP, t = t0 + r;
            dst[i] = (t < T && d < hd) ? src[(long long)t * ld + d] : 0.0f;
        }
    }
}

// ================================================================================================================
// FP32 path (CUDA cores). A query row (forward) or key row (backward) belongs to TPR = HDP/DPT adjacent lanes, each
// holding DPT of its dims (d = part + TPR·j) in registers; dot products are a per-lane FMA chain plus a group sum.
// ================================================================================================================

template <int HDP>
struct FaF32 {
    static constexpr int DPT = HDP <= 32 ? 16 : 32;      // dims per thread (16 at HDP 32 keeps registers unspilled)
    static constexpr int TPR = HDP / DPT;                 // threads per row
};

// AttentionTiling.forward. Block = Br·TPR threads, thread (r = tid / TPR, part = tid % TPR) owns query row q0 + r.
// K and V tiles are in shared memory (one buffer taking turns for HDP = 256, to stay within 48 KiB).
template <int HDP>
__device__ __forceinline__ void fa_forward_f32(float* __restrict__ out, float* __restrict__ lse,
                                               const float* __restrict__ qkv, int B, int T, int H, int hd,
                                               float scale, const HeadParams& hp) {
    constexpr int BR = FaTile<HDP>::BR, BC = FaTile<HDP>::BC, DPT = FaF32<HDP>::DPT, TPR = FaF32<HDP>::TPR;
    constexpr int NT = BR * TPR;
    constexpr bool SHARED_KV = HDP > 128;
    alignas(16) __shared__ float ks[BC * HDP];
    alignas(16) __shared__ float vs[SHARED_KV ? 4 : BC * HDP];
    float* const vt = SHARED_KV ? ks : vs;

    const int tid = threadIdx.x, r = tid / TPR, part = tid % TPR;
    const int bh = blockIdx.x, b = bh / H, h = bh % H;
    const int nQt = (T + BR - 1) / BR;
    const int qt = nQt - 1 - (int)blockIdx.y;             // the longest rows first (scheduling only)
    const int q0 = qt * BR, q = q0 + r;
    const int w = hp.window[h];
    const float slope = hp.slope[h];
    const long long W3 = 3LL * H * hd;
    const float* __restrict__ base = qkv + (long long)b * T * W3 + (long long)h * 3 * hd;

    float qv[DPT], acc[DPT];
#pragma unroll
    for (int j = 0; j < DPT; ++j) {
        const int d = part + TPR * j;
        qv[j] = (q < T && d < hd) ? base[(long long)q * W3 + d] : 0.0f;
        acc[j] = 0.0f;
    }
    float m = -CUDART_INF_F, l = 0.0f;
    const int kt0 = fa_first_key(w, q0) / BC, kt1 = (min(q0 + BR, T) - 1) / BC;
    for (int kt = kt0; kt <= kt1; ++kt) {
        const int k0 = kt * BC;
        __syncthreads();                                   // the previous tile's readers are done
        fa_load_rows_f32<BC, HDP, NT>(ks, base + hd, W3, k0, T, hd);
        if (!SHARED_KV) fa_load_rows_f32<BC, HDP, NT>(vs, base + 2 * hd, W3, k0, T, hd);
        __syncthreads();
        const bool mask = fa_needs_mask(w, q0, k0, BR, BC, T);
        FA_COUNT(forwardTiles);
        if (mask) FA_COUNT(forwardMaskedTiles);
        float s[BC];
        float rowMax = -CUDART_INF_F;
#pragma unroll
        for (int c = 0; c < BC; ++c) {
            float p = 0.0f;
#pragma unroll
            for (int j = 0; j < DPT; ++j) p = fmaf(qv[j], ks[c * HDP + part + TPR * j], p);
            const float dot = fa_group_sum<TPR>(p);
            const int k = k0 + c;
            float sc = dot * scale - slope * (float)(q - k);
            if (mask && !fa_visible(w, q, k, T)) sc = -CUDART_INF_F;
            s[c] = sc;
            rowMax = fmaxf(rowMax, sc);
        }
        const float mNew = fmaxf(m, rowMax);
        const float mUse = mNew == -CUDART_INF_F ? 0.0f : mNew;   // the −∞ guard
        if (mNew > m) {                                    // the max rose: rescale (exp(−∞) = 0 on the first)
            const float alpha = expf(m - mUse);
            l *= alpha;
#pragma unroll
            for (int j = 0; j < DPT; ++j) acc[j] *= alpha;
        }
        float rowSum = 0.0f;
#pragma unroll
        for (int c = 0; c < BC; ++c) {
            const float p = expf(s[c] - mUse);
            s[c] = p;
            rowSum += p;
        }
        l += rowSum;
        if (SHARED_KV) {
            __syncthreads();                               // every row has read K
            fa_load_rows_f32<BC, HDP, NT>(ks, base + 2 * hd, W3, k0, T, hd);
            __syncthreads();
        }
#pragma unroll
        for (int c = 0; c < BC; ++c) {
#pragma unroll
            for (int j = 0; j < DPT; ++j) acc[j] = fmaf(s[c], vt[c * HDP + part + TPR * j], acc[j]);
        }
        m = mNew;
    }
    if (q < T) {
        float* o = out + ((long long)b * T + q) * H * hd + (long long)h * hd;
#pragma unroll
        for (int j = 0; j < DPT; ++j) {
            const int d = part + TPR * j;
            if (d < hd) o[d] = acc[j] / l;
        }
        if (part == 0) lse[(long long)bh * T + q] = m + logf(l);
    }
}

// Query rows per shared-memory chunk of the FP32 backward (the query tile is walked in chunks of RC rows, in order).
template <int HDP>
struct FaBwdF32 {
    static constexpr int RC = HDP <= 32 ? 64 : HDP <= 64 ? 32 : HDP <= 128 ? 16 : 4;
};

// AttentionTiling.backward (main kernel). Block = Bc·TPR threads; thread (c = tid / TPR, part) owns key k0 + c: its
// k, v, dK, dV rows are in registers. Per query chunk: Q, dO, lse, D in shared memory; each key thread walks the
// rows in order (P, dS, dV += P·dO, dK += dS·Q) and writes its dS column to shared memory; then the block computes
// the chunk's dQ = dS·K·scale (thread per (row, dim), summing c = 0..Bc−1 in order) and atomicAdds it.
template <int HDP>
__device__ __forceinline__ void fa_backward_f32(float* __restrict__ dqkv, const float* __restrict__ dout,
                                                const float* __restrict__ qkv, const float* __restrict__ lse,
                                                const float* __restrict__ D, int B, int T, int H, int hd,
                                                float scale, const HeadParams& hp) {
    constexpr int BR = FaTile<HDP>::BR, BC = FaTile<HDP>::BC, DPT = FaF32<HDP>::DPT, TPR = FaF32<HDP>::TPR;
    constexpr int NT = BC * TPR;
    constexpr int RC = FaBwdF32<HDP>::RC;
    static_assert(NT % HDP == 0, "dQ phase: whole rows of threads");
    alignas(16) __shared__ float ks[BC * HDP];
    alignas(16) __shared__ float qs[RC * HDP];
    alignas(16) __shared__ float dos[RC * HDP];
    __shared__ float dss[RC * BC];
    __shared__ float lses[RC], dds[RC];

    const int tid = threadIdx.x, c = tid / TPR, part = tid % TPR;
    const int bh = blockIdx.x, b = bh / H, h = bh % H;
    const int kt = blockIdx.y, k0 = kt * BC, k = k0 + c;
    const int w = hp.window[h];
    const float slope = hp.slope[h];
    const long long W3 = 3LL * H * hd, WO = (long long)H * hd;
    const long long headOff = (long long)b * T * W3 + (long long)h * 3 * hd;
    const float* __restrict__ base = qkv + headOff;
    float* __restrict__ gbase = dqkv + headOff;
    const float* __restrict__ dobase = dout + (long long)b * T * WO + (long long)h * hd;
    const float* __restrict__ lseRow = lse + (long long)bh * T;
    const float* __restrict__ dRow = D + (long long)bh * T;

    float kv[DPT], vv[DPT], dk[DPT], dv[DPT];
#pragma unroll
    for (int j = 0; j < DPT; ++j) {
        const int d = part + TPR * j;
        const bool in = k < T && d < hd;
        kv[j] = in ? base[(long long)k * W3 + hd + d] : 0.0f;
        vv[j] = in ? base[(long long)k * W3 + 2 * hd + d] : 0.0f;
        dk[j] = dv[j] = 0.0f;
    }
    fa_load_rows_f32<BC, HDP, NT>(ks, base + hd, W3, k0, T, hd);   // read after the first barrier below
    const int qt0 = k0 / BR, qt1 = fa_last_query_tile(w, kt, BR, BC, T);
    for (int qt = qt0; qt <= qt1; ++qt) {
        const int q0 = qt * BR;
        const bool mask = fa_needs_mask(w, q0, k0, BR, BC, T);
        FA_COUNT(backwardTiles);
        if (mask) FA_COUNT(backwardMaskedTiles);
        for (int rc0 = 0; rc0 < BR && q0 + rc0 < T; rc0 += RC) {   // chunks of padding rows only add zeros
            __syncthreads();                               // the previous chunk's readers are done
            fa_load_rows_f32<RC, HDP, NT>(qs, base, W3, q0 + rc0, T, hd);
            fa_load_rows_f32<RC, HDP, NT>(dos, dobase, WO, q0 + rc0, T, hd);
            for (int i = tid; i < RC; i += NT) {
                const int q = q0 + rc0 + i;
                lses[i] = q < T ? lseRow[q] : 0.0f;
                dds[i] = q < T ? dRow[q] : 0.0f;
            }
            __syncthreads();
            for (int rr = 0; rr < RC; ++rr) {
                const int q = q0 + rc0 + rr;
                float ps = 0.0f, pd = 0.0f;
#pragma unroll
                for (int j = 0; j < DPT; ++j) {
                    ps = fmaf(kv[j], qs[rr * HDP + part + TPR * j], ps);
                    pd = fmaf(vv[j], dos[rr * HDP + part + TPR * j], pd);
                }
                const float dot = fa_group_sum<TPR>(ps), dp = fa_group_sum<TPR>(pd);
                float p = 0.0f, ds = 0.0f;
                if (!mask || fa_visible(w, q, k, T)) {
                    p = expf(dot * scale - slope * (float)(q - k) - lses[rr]);
                    ds = p * (dp - dds[rr]);
                }
                if (part == 0) dss[rr * BC + c] = ds;
#pragma unroll
                for (int j = 0; j < DPT; ++j) {
                    dv[j] = fmaf(p, dos[rr * HDP + part + TPR * j], dv[j]);
                    dk[j] = fmaf(ds, qs[rr * HDP + part + TPR * j], dk[j]);
                }
            }
            __syncthreads();                               // dS of the chunk is complete
            const int d = tid % HDP;
            for (int rr = tid / HDP; rr < RC; rr += NT / HDP) {
                const int q = q0 + rc0 + rr;
                float a = 0.0f;
#pragma unroll 8
                for (int cc = 0; cc < BC; ++cc) a = fmaf(dss[rr * BC + cc], ks[cc * HDP + d], a);
                if (q < T && d < hd) atomicAdd(&gbase[(long long)q * W3 + d], a * scale);
            }
        }
    }
    if (k < T) {
        float* g = gbase + (long long)k * W3;
#pragma unroll
        for (int j = 0; j < DPT; ++j) {
            const int d = part + TPR * j;
            if (d < hd) {
                g[hd + d] += dk[j] * scale;
                g[2 * hd + d] += dv[j];
            }
        }
    }
}

// ================================================================================================================
// Tensor-core path. Operand traits: fragment loads follow the PTX ISA layouts of mma.m16n8k16 (.bf16) and
// mma.m16n8k8 (.tf32). g = lane >> 2, t = lane % 4. Shared tiles are row-major [row][col] with a stride S
// (elements) padded by FA_PAD so the fragment loads below are (nearly) free of bank conflicts.
//   ldA(M, m0, k0):   A[m][k] = M[m0 + m][k0 + k]             (row-major A)
//   ldB_n(M, k0, n0): B[k][n] = M[n0 + n][k0 + k]             (B stored n-major, e.g. K for S = Q·Kᵀ)
//   ldB_k(M, k0, n0): B[k][n] = M[k0 + k][n0 + n]             (B stored k-major, e.g. V for O = P·V)
//   aFromC(C, kk):    the A operand of k-step kk taken from accumulator tiles C[·][4] (P and dS never leave
//                     registers): bf16 packs C tiles 2kk and 2kk+1 (the FA2 register reuse), tf32 takes tile kk.
// TF32 permutes the k index inside each k-step (hardware k-column t ↔ logical 2t, t+4 ↔ 2t+1) consistently for A
// and B, which leaves A·B unchanged and lets an accumulator tile serve as an A operand without shuffles.
// ================================================================================================================

__device__ __forceinline__ uint32_t fa_bf16x2(float lo, float hi) {
#ifdef PARROT_EMU
    auto one = [](float x) -> uint32_t {
        uint32_t u = __float_as_uint(x);
        if ((u & 0x7fffffffu) > 0x7f800000u) return ((u >> 16) | 0x40u) & 0xffffu;   // quiet NaN
        u += 0x7fffu + ((u >> 16) & 1u);                                            // round to nearest even
        return u >> 16;
    };
    return one(lo) | (one(hi) << 16);
#else
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));   // first source → upper half
    return r;
#endif
}

__device__ __forceinline__ float fa_tf32(float x) {
#ifdef PARROT_EMU
    uint32_t u = __float_as_uint(x);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;   // nearest, ties away from zero
    return __uint_as_float(u);
#else
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return __uint_as_float(r);
#endif
}

struct FaBf16 {
    static constexpr int KS = 16;
    typedef unsigned short elem;
    static __device__ __forceinline__ elem cvt(float x) { return (elem)(fa_bf16x2(x, 0.0f) & 0xffffu); }
    static __device__ __forceinline__ uint32_t word(const elem* p) { return *reinterpret_cast<const uint32_t*>(p); }

    static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#ifdef PARROT_EMU
        emu::mma_tile(0, c, a, b, c);
#else
        asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
    }
    static __device__ __forceinline__ void ldA(uint32_t (&a)[4], const elem* M, int S, int m0, int k0, int lane) {
        const int g = lane >> 2, t = lane & 3;
        const elem* p = M + (m0 + g) * S + k0 + 2 * t;
        a[0] = word(p);
        a[1] = word(p + 8 * S);
        a[2] = word(p + 8);
        a[3] = word(p + 8 * S + 8);
    }
    static __device__ __forceinline__ void ldB_n(uint32_t (&b)[2], const elem* M, int S, int k0, int n0, int lane) {
        const int g = lane >> 2, t = lane & 3;
        const elem* p = M + (n0 + g) * S + k0 + 2 * t;
        b[0] = word(p);
        b[1] = word(p + 8);
    }
    static __device__ __forceinline__ void ldB_k(uint32_t (&b)[2], const elem* M, int S, int k0, int n0, int lane) {
        const int g = lane >> 2, t = lane & 3;
        const elem* p = M + (k0 + 2 * t) * S + n0 + g;
        b[0] = (uint32_t)p[0] | ((uint32_t)p[S] << 16);
        b[1] = (uint32_t)p[8 * S] | ((uint32_t)p[9 * S] << 16);
    }
    template <int N>
    static __device__ __forceinline__ void aFromC(uint32_t (&a)[4], const float (&C)[N][4], int kk) {
        a[0] = fa_bf16x2(C[2 * kk][0], C[2 * kk][1]);
        a[1] = fa_bf16x2(C[2 * kk][2], C[2 * kk][3]);
        a[2] = fa_bf16x2(C[2 * kk + 1][0], C[2 * kk + 1][1]);
        a[3] = fa_bf16x2(C[2 * kk + 1][2], C[2 * kk + 1][3]);
    }
    // A fragment straight from a float32 matrix in global memory: rows ≥ rows and cols ≥ cols read as zero.
    static __device__ __forceinline__ void ldA_global(uint32_t (&a)[4], const float* __restrict__ M, long long ld,
                                                      int m0, int rows, int k0, int cols, int lane) {
        const int g = lane >> 2, t = lane & 3;
        auto at = [&](int r, int c) { return (r < rows && c < cols) ? M[(long long)r * ld + c] : 0.0f; };
        const int r0 = m0 + g, r1 = r0 + 8, c0 = k0 + 2 * t, c1 = c0 + 8;
        a[0] = fa_bf16x2(at(r0, c0), at(r0, c0 + 1));
        a[1] = fa_bf16x2(at(r1, c0), at(r1, c0 + 1));
        a[2] = fa_bf16x2(at(r0, c1), at(r0, c1 + 1));
        a[3] = fa_bf16x2(at(r1, c1), at(r1, c1 + 1));
    }
    // rows t0 .. t0+ROWS−1 (those < T), dims 0..HDP−1 (those < hd) of a float32 matrix → bf16 tile, zeros elsewhere
    // (16-byte loads when hd % 4 == 0, as fa_load_rows_f32).
    template <int ROWS, int HDP, int NT>
    static __device__ __forceinline__ void load_tile(elem* dst, int S, const float* __restrict__ src, long long ld,
                                                     int t0, int T, int hd) {
        if ((hd & 3) == 0) {
            for (int i = threadIdx.x; i < ROWS * HDP / 4; i += NT) {
                const int r = i / (HDP / 4), d = 4 * (i % (HDP / 4)), t = t0 + r;
                float4 v;
                v.x = v.y = v.z = v.w = 0.0f;
                if (t < T && d < hd) v = *reinterpret_cast<const float4*>(src + (long long)t * ld + d);
                uint2 p;
                p.x = fa_bf16x2(v.x, v.y);
                p.y = fa_bf16x2(v.z, v.w);
                *reinterpret_cast<uint2*>(dst + r * S + d) = p;
            }
        } else {
            for (int i = threadIdx.x; i < ROWS * HDP / 2; i += NT) {
                const int r = i / (HDP / 2), d = 2 * (i % (HDP / 2)), t = t0 + r;
                const float* s = src + (long long)t * ld + d;
                const float x0 = (t < T && d < hd) ? s[0] : 0.0f, x1 = (t < T && d + 1 < hd) ? s[1] : 0.0f;
                *reinterpret_cast<uint32_t*>(dst + r * S + d) = fa_bf16x2(x0, x1);
            }
        }
    }
};

struct FaTf32 {
    static constexpr int KS = 8;
    typedef float elem;
    static __device__ __forceinline__ elem cvt(float x) { return fa_tf32(x); }
    static __device__ __forceinline__ uint32_t word(const elem* p) { return __float_as_uint(*p); }

    static __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#ifdef PARROT_EMU
        emu::mma_tile(1, c, a, b, c);
#else
        asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
    }
    // hardware A: a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); logical k: t → 2t, t+4 → 2t+1.
    static __device__ __forceinline__ void ldA(uint32_t (&a)[4], const elem* M, int S, int m0, int k0, int lane) {
        const int g = lane >> 2, t = lane & 3;
        const elem* p = M + (m0 + g) * S + k0 + 2 * t;
        a[0] = word(p);
        a[1] = word(p + 8 * S);
        a[2] = word(p + 1);
        a[3] = word(p + 8 * S + 1);
    }
    // hardware B: b0 (k = t, n = g), b1 (k = t+4, n = g); logical k 2t and 2t+1.
    static __device__ __forceinline__ void ldB_n(uint32_t (&b)[2], const elem* M, int S, int k0, int n0, int lane) {
        const int g = lane >> 2, t = lane & 3;
        const elem* p = M + (n0 + g) * S + k0 + 2 * t;
        b[0] = word(p);
        b[1] = word(p + 1);
    }
    static __device__ __forceinline__ void ldB_k(uint32_t (&b)[2], const elem* M, int S, int k0, int n0, int lane) {
        const int g = lane >> 2, t = lane & 3;
        const elem* p = M + (k0 + 2 * t) * S + n0 + g;
        b[0] = word(p);
        b[1] = word(p + S);
    }
    // accumulator tile kk: c0 (g, 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1) → logical A (g, 2t) … as above.
    template <int N>
    static __device__ __forceinline__ void aFromC(uint32_t (&a)[4], const float (&C)[N][4], int kk) {
        a[0] = __float_as_uint(fa_tf32(C[kk][0]));
        a[1] = __float_as_uint(fa_tf32(C[kk][2]));
        a[2] = __float_as_uint(fa_tf32(C[kk][1]));
        a[3] = __float_as_uint(fa_tf32(C[kk][3]));
    }
    static __device__ __forceinline__ void ldA_global(uint32_t (&a)[4], const float* __restrict__ M, long long ld,
                                                      int m0, int rows, int k0, int cols, int lane) {
        const int g = lane >> 2, t = lane & 3;
        auto at = [&](int r, int c) { return (r < rows && c < cols) ? M[(long long)r * ld + c] : 0.0f; };
        const int r0 = m0 + g, r1 = r0 + 8, c0 = k0 + 2 * t;
        a[0] = __float_as_uint(fa_tf32(at(r0, c0)));
        a[1] = __float_as_uint(fa_tf32(at(r1, c0)));
        a[2] = __float_as_uint(fa_tf32(at(r0, c0 + 1)));
        a[3] = __float_as_uint(fa_tf32(at(r1, c0 + 1)));
    }
    template <int ROWS, int HDP, int NT>
    static __device__ __forceinline__ void load_tile(elem* dst, int S, const float* __restrict__ src, long long ld,
                                                     int t0, int T, int hd) {
        if ((hd & 3) == 0) {
            for (int i = threadIdx.x; i < ROWS * HDP / 4; i += NT) {
                const int r = i / (HDP / 4), d = 4 * (i % (HDP / 4)), t = t0 + r;
                float4 v;
                v.x = v.y = v.z = v.w = 0.0f;
                if (t < T && d < hd) v = *reinterpret_cast<const float4*>(src + (long long)t * ld + d);
                v.x = fa_tf32(v.x);
                v.y = fa_tf32(v.y);
                v.z = fa_tf32(v.z);
                v.w = fa_tf32(v.w);
                *reinterpret_cast<float4*>(dst + r * S + d) = v;
            }
        } else {
            for (int i = threadIdx.x; i < ROWS * HDP; i += NT) {
                const int r = i / HDP, d = i % HDP, t = t0 + r;
                dst[r * S + d] = fa_tf32((t < T && d < hd) ? src[(long long)t * ld + d] : 0.0f);
            }
        }
    }
};

// AttentionTiling.forward on tensor cores. Block = 4 warps, Br = 64: warp w owns query rows q0 + 16w .. +15 (one
// m16 tile), its Q fragments in registers for the whole block. Per key tile: S = Q·Kᵀ (16 × Bc per warp) by mma,
// scale/bias/mask in registers, online softmax per row (a row lives in the 4 lanes of a quad: max by two
// shuffles; l kept per lane and summed at the end), O += P·V with P reused from the S accumulators.
template <class Op, int HDP>
__device__ __forceinline__ void fa_forward_tc(float* __restrict__ out, float* __restrict__ lse,
                                              const float* __restrict__ qkv, int B, int T, int H, int hd,
                                              float scale, const HeadParams& hp) {
    constexpr int BR = FaTile<HDP>::BR, BC = FaTile<HDP>::BC, KS = Op::KS, NT = 128, S = HDP + FA_PAD;
    static_assert(BR == 64, "4 warps of 16 rows");
    typedef typename Op::elem E;
    alignas(16) __shared__ E ks[BC * S];
    alignas(16) __shared__ E vs[BC * S];

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int bh = blockIdx.x, b = bh / H, h = bh % H;
    const int nQt = (T + BR - 1) / BR;
    const int qt = nQt - 1 - (int)blockIdx.y;             // the longest rows first (scheduling only)
    const int q0 = qt * BR, m0 = q0 + 16 * warp;
    const bool active = m0 < T;                            // warp-uniform: a warp of padding rows skips the math
    const int w = hp.window[h];
    const float slope = hp.slope[h];
    const long long W3 = 3LL * H * hd;
    const float* __restrict__ base = qkv + (long long)b * T * W3 + (long long)h * 3 * hd;

    uint32_t qa[HDP / KS][4];
#pragma unroll
    for (int kk = 0; kk < HDP / KS; ++kk) Op::ldA_global(qa[kk], base, W3, m0, T, kk * KS, hd, lane);
    float oacc[HDP / 8][4];
#pragma unroll
    for (int n = 0; n < HDP / 8; ++n) oacc[n][0] = oacc[n][1] = oacc[n][2] = oacc[n][3] = 0.0f;
    float m[2] = {-CUDART_INF_F, -CUDART_INF_F}, l[2] = {0.0f, 0.0f};

    const int kt0 = fa_first_key(w, q0) / BC, kt1 = (min(q0 + BR, T) - 1) / BC;
    for (int kt = kt0; kt <= kt1; ++kt) {
        const int k0 = kt * BC;
        __syncthreads();
        Op::template load_tile<BC, HDP, NT>(ks, S, base + hd, W3, k0, T, hd);
        Op::template load_tile<BC, HDP, NT>(vs, S, base + 2 * hd, W3, k0, T, hd);
        __syncthreads();
        const bool mask = fa_needs_mask(w, q0, k0, BR, BC, T);
        FA_COUNT(forwardTiles);
        if (mask) FA_COUNT(forwardMaskedTiles);
        if (!active) continue;
        float sacc[BC / 8][4];
#pragma unroll
        for (int n = 0; n < BC / 8; ++n) sacc[n][0] = sacc[n][1] = sacc[n][2] = sacc[n][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < HDP / KS; ++kk) {
#pragma unroll
            for (int n = 0; n < BC / 8; ++n) {
                uint32_t bf[2];
                Op::ldB_n(bf, ks, S, kk * KS, n * 8, lane);
                Op::mma(sacc[n], qa[kk], bf);
            }
        }
        float rowMax[2] = {-CUDART_INF_F, -CUDART_INF_F};
#pragma unroll
        for (int n = 0; n < BC / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int q = m0 + g + 8 * (e >> 1), k = k0 + n * 8 + 2 * t + (e & 1);
                float sc = sacc[n][e] * scale - slope * (float)(q - k);
                if (mask && !fa_visible(w, q, k, T)) sc = -CUDART_INF_F;
                sacc[n][e] = sc;
                rowMax[e >> 1] = fmaxf(rowMax[e >> 1], sc);
            }
        }
        float mUse[2];
#pragma unroll
        for (int ri = 0; ri < 2; ++ri) {
            rowMax[ri] = fmaxf(rowMax[ri], __shfl_xor_sync(PARROT_FULL_MASK, rowMax[ri], 1));
            rowMax[ri] = fmaxf(rowMax[ri], __shfl_xor_sync(PARROT_FULL_MASK, rowMax[ri], 2));
            const float mNew = fmaxf(m[ri], rowMax[ri]);
            mUse[ri] = mNew == -CUDART_INF_F ? 0.0f : mNew;   // the −∞ guard
            if (mNew > m[ri]) {
                const float alpha = __expf(m[ri] - mUse[ri]);
                l[ri] *= alpha;
#pragma unroll
                for (int n = 0; n < HDP / 8; ++n) {
                    oacc[n][2 * ri] *= alpha;
                    oacc[n][2 * ri + 1] *= alpha;
                }
            }
            m[ri] = mNew;
        }
#pragma unroll
        for (int n = 0; n < BC / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const float p = __expf(sacc[n][e] - mUse[e >> 1]);
                sacc[n][e] = p;
                l[e >> 1] += p;
            }
        }
        __syncwarp();                                      // reconverge (per-quad rescale) before mma.sync.aligned
#pragma unroll
        for (int kk = 0; kk < BC / KS; ++kk) {
            uint32_t pa[4];
            Op::aFromC(pa, sacc, kk);
#pragma unroll
            for (int n = 0; n < HDP / 8; ++n) {
                uint32_t bf[2];
                Op::ldB_k(bf, vs, S, kk * KS, n * 8, lane);
                Op::mma(oacc[n], pa, bf);
            }
        }
    }
    if (!active) return;
#pragma unroll
    for (int ri = 0; ri < 2; ++ri) {
        l[ri] += __shfl_xor_sync(PARROT_FULL_MASK, l[ri], 1);
        l[ri] += __shfl_xor_sync(PARROT_FULL_MASK, l[ri], 2);
        const int q = m0 + g + 8 * ri;
        if (q >= T) continue;
        float* o = out + ((long long)b * T + q) * H * hd + (long long)h * hd;
#pragma unroll
        for (int n = 0; n < HDP / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int d = n * 8 + 2 * t + e;
                if (d < hd) o[d] = oacc[n][2 * ri + e] / l[ri];
            }
        }
        if (t == 0) lse[(long long)bh * T + q] = m[ri] + logf(l[ri]);
    }
}

// Query rows per step of the tensor-core backward: the query tile (Br = 64) is walked in sub-tiles of BRS rows so
// the Q, dO and dS tiles fit the 48 KiB of static shared memory.
template <class Op, int HDP>
struct FaBwdTc {
    static constexpr int BRS = Op::KS == 16 ? (HDP <= 64 ? 64 : 16) : (HDP <= 64 ? 32 : 16);
};

// AttentionTiling.backward (main kernel) on tensor cores, in the transposed form: the block's Bc keys are the M
// dimension. Warp w owns keys k0 + 16w .. +15 and accumulates their dK, dV (16 × HDP each) in registers. Per query
// sub-tile: Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ (16 keys × BRS queries per warp), Pᵀ = exp(Sᵀ·scale − bias − lse),
// dSᵀ = Pᵀ∘(dPᵀ − D), dV += Pᵀ·dO and dK += dSᵀ·Q with Pᵀ, dSᵀ straight from the accumulators; dS goes to shared
// memory, then dQ = dS·K (BRS × HDP, in 16 × 32 units over the warps) is atomicAdd'ed. V's A fragments are read
// from global memory (L1-resident: the block's 16 × HDP rows per warp), which keeps V out of shared memory.
template <class Op, int HDP>
__device__ __forceinline__ void fa_backward_tc(float* __restrict__ dqkv, const float* __restrict__ dout,
                                               const float* __restrict__ qkv, const float* __restrict__ lse,
                                               const float* __restrict__ D, int B, int T, int H, int hd,
                                               float scale, const HeadParams& hp) {
    constexpr int BR = FaTile<HDP>::BR, BC = FaTile<HDP>::BC, KS = Op::KS, NW = BC / 16, NT = 32 * NW;
    constexpr int S = HDP + FA_PAD, SD = BC + FA_PAD, BRS = FaBwdTc<Op, HDP>::BRS, NG = HDP / 32;
    static_assert(BR == 64 && BRS % 16 == 0 && BR % BRS == 0, "sub-tiles of whole m16 tiles");
    typedef typename Op::elem E;
    alignas(16) __shared__ E ks[BC * S];
    alignas(16) __shared__ E qs[BRS * S];
    alignas(16) __shared__ E dos[BRS * S];
    alignas(16) __shared__ E dss[BRS * SD];
    __shared__ float lses[BRS], dds[BRS];

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int bh = blockIdx.x, b = bh / H, h = bh % H;
    const int kt = blockIdx.y, k0 = kt * BC, km0 = 16 * warp;
    const int w = hp.window[h];
    const float slope = hp.slope[h];
    const long long W3 = 3LL * H * hd, WO = (long long)H * hd;
    const long long headOff = (long long)b * T * W3 + (long long)h * 3 * hd;
    const float* __restrict__ base = qkv + headOff;
    float* __restrict__ gbase = dqkv + headOff;
    const float* __restrict__ dobase = dout + (long long)b * T * WO + (long long)h * hd;
    const float* __restrict__ lseRow = lse + (long long)bh * T;
    const float* __restrict__ dRow = D + (long long)bh * T;

    float dka[HDP / 8][4], dva[HDP / 8][4];
#pragma unroll
    for (int n = 0; n < HDP / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) dka[n][e] = dva[n][e] = 0.0f;
    Op::template load_tile<BC, HDP, NT>(ks, S, base + hd, W3, k0, T, hd);   // read after the first barrier below
    const int qt0 = k0 / BR, qt1 = fa_last_query_tile(w, kt, BR, BC, T);
    for (int qt = qt0; qt <= qt1; ++qt) {
        const int q0 = qt * BR;
        const bool mask = fa_needs_mask(w, q0, k0, BR, BC, T);
        FA_COUNT(backwardTiles);
        if (mask) FA_COUNT(backwardMaskedTiles);
        for (int r0 = 0; r0 < BR && q0 + r0 < T; r0 += BRS) {    // sub-tiles of padding rows only add zeros
            __syncthreads();                               // the previous sub-tile's readers are done
            Op::template load_tile<BRS, HDP, NT>(qs, S, base, W3, q0 + r0, T, hd);
            Op::template load_tile<BRS, HDP, NT>(dos, S, dobase, WO, q0 + r0, T, hd);
            for (int i = threadIdx.x; i < BRS; i += NT) {
                const int q = q0 + r0 + i;
                lses[i] = q < T ? lseRow[q] : 0.0f;
                dds[i] = q < T ? dRow[q] : 0.0f;
            }
            __syncthreads();
            float st[BRS / 8][4], dpt[BRS / 8][4];
#pragma unroll
            for (int n = 0; n < BRS / 8; ++n)
#pragma unroll
                for (int e = 0; e < 4; ++e) st[n][e] = dpt[n][e] = 0.0f;
#pragma unroll(HDP == 128 ? 2 : HDP / KS)   // fully unrolled, its global V loads hoisted, spills at HDP 128
            for (int kk = 0; kk < HDP / KS; ++kk) {
                uint32_t ka[4], va[4];
                Op::ldA(ka, ks, S, km0, kk * KS, lane);
                Op::ldA_global(va, base + 2 * hd, W3, k0 + km0, T, kk * KS, hd, lane);
#pragma unroll
                for (int n = 0; n < BRS / 8; ++n) {
                    uint32_t bq[2], bd[2];
                    Op::ldB_n(bq, qs, S, kk * KS, n * 8, lane);
                    Op::mma(st[n], ka, bq);
                    Op::ldB_n(bd, dos, S, kk * KS, n * 8, lane);
                    Op::mma(dpt[n], va, bd);
                }
            }
#pragma unroll
            for (int n = 0; n < BRS / 8; ++n) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int kr = km0 + g + 8 * (e >> 1), col = n * 8 + 2 * t + (e & 1);
                    const int k = k0 + kr, q = q0 + r0 + col;
                    float p = 0.0f, ds = 0.0f;
                    if (!mask || fa_visible(w, q, k, T)) {
                        p = __expf(st[n][e] * scale - slope * (float)(q - k) - lses[col]);
                        ds = p * (dpt[n][e] - dds[col]);
                    }
                    st[n][e] = p;
                    dpt[n][e] = ds;
                    dss[col * SD + kr] = Op::cvt(ds);
                }
            }
            __syncwarp();                                  // reconverge (per-lane masking) before mma.sync.aligned
#pragma unroll
            for (int kk = 0; kk < BRS / KS; ++kk) {
                uint32_t pa[4], sa[4];
                Op::aFromC(pa, st, kk);
                Op::aFromC(sa, dpt, kk);
#pragma unroll
                for (int n = 0; n < HDP / 8; ++n) {
                    uint32_t bd[2], bq[2];
                    Op::ldB_k(bd, dos, S, kk * KS, n * 8, lane);
                    Op::mma(dva[n], pa, bd);
                    Op::ldB_k(bq, qs, S, kk * KS, n * 8, lane);
                    Op::mma(dka[n], sa, bq);
                }
            }
            __syncthreads();                               // dS of the sub-tile is complete
            for (int u = warp; u < (BRS / 16) * NG; u += NW) {
                const int mt = u / NG, ng = u % NG;
                float qacc[4][4];
#pragma unroll
                for (int j = 0; j < 4; ++j) qacc[j][0] = qacc[j][1] = qacc[j][2] = qacc[j][3] = 0.0f;
#pragma unroll
                for (int kk = 0; kk < BC / KS; ++kk) {
                    uint32_t a[4];
                    Op::ldA(a, dss, SD, mt * 16, kk * KS, lane);
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        uint32_t bk[2];
                        Op::ldB_k(bk, ks, S, kk * KS, ng * 32 + j * 8, lane);
                        Op::mma(qacc[j], a, bk);
                    }
                }
#pragma unroll
                for (int j = 0; j < 4; ++j) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int q = q0 + r0 + mt * 16 + g + 8 * (e >> 1), d = ng * 32 + j * 8 + 2 * t + (e & 1);
                        if (q < T && d < hd) atomicAdd(&gbase[(long long)q * W3 + d], qacc[j][e] * scale);
                    }
                }
            }
        }
    }
#pragma unroll
    for (int n = 0; n < HDP / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int k = k0 + km0 + g + 8 * (e >> 1), d = n * 8 + 2 * t + (e & 1);
            if (k < T && d < hd) {
                float* gk = gbase + (long long)k * W3;
                gk[hd + d] += dka[n][e] * scale;
                gk[2 * hd + d] += dva[n][e];
            }
        }
    }
}

// ================================================================================================================
// Kernels. Launch shapes (AttentionKernels.java): forward grid (B·H, ⌈T/Br⌉); backward grid (B·H, ⌈T/Bc⌉) after
// the pre-pass; block sizes as in each launch_bounds.
// ================================================================================================================

// Written out one by one (not by a macro) so that KernelSourcesTest finds each name and its launch bound: the
// launcher's block size must equal the bound. Min blocks 1: ptxas's default register target spilled some of these.
#define FA_FWD_PARAMS float *out, float *lse, const float *qkv, int B, int T, int H, int hd, float scale, HeadParams hp
#define FA_FWD_ARGS out, lse, qkv, B, T, H, hd, scale, hp
#define FA_BWD_PARAMS                                                                                             \
    float *dqkv, const float *dout, const float *qkv, const float *lse, const float *D, int B, int T, int H, int hd, \
        float scale, HeadParams hp
#define FA_BWD_ARGS dqkv, dout, qkv, lse, D, B, T, H, hd, scale, hp

// FP32: forward block Br·TPR threads, backward Bc·TPR (FaTile, FaF32).
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd32_f32(FA_FWD_PARAMS) {
    fa_forward_f32<32>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd64_f32(FA_FWD_PARAMS) {
    fa_forward_f32<64>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(256, 1) parrot_flash_attention_forward_hd128_f32(FA_FWD_PARAMS) {
    fa_forward_f32<128>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(256, 1) parrot_flash_attention_forward_hd256_f32(FA_FWD_PARAMS) {
    fa_forward_f32<256>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd32_f32(FA_BWD_PARAMS) {
    fa_backward_f32<32>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd64_f32(FA_BWD_PARAMS) {
    fa_backward_f32<64>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd128_f32(FA_BWD_PARAMS) {
    fa_backward_f32<128>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(256, 1) parrot_flash_attention_backward_hd256_f32(FA_BWD_PARAMS) {
    fa_backward_f32<256>(FA_BWD_ARGS);
}

// Tensor cores: forward 4 warps; backward Bc/16 warps.
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd32_bf16(FA_FWD_PARAMS) {
    fa_forward_tc<FaBf16, 32>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd64_bf16(FA_FWD_PARAMS) {
    fa_forward_tc<FaBf16, 64>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd128_bf16(FA_FWD_PARAMS) {
    fa_forward_tc<FaBf16, 128>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd32_tf32(FA_FWD_PARAMS) {
    fa_forward_tc<FaTf32, 32>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd64_tf32(FA_FWD_PARAMS) {
    fa_forward_tc<FaTf32, 64>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_forward_hd128_tf32(FA_FWD_PARAMS) {
    fa_forward_tc<FaTf32, 128>(FA_FWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd32_bf16(FA_BWD_PARAMS) {
    fa_backward_tc<FaBf16, 32>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd64_bf16(FA_BWD_PARAMS) {
    fa_backward_tc<FaBf16, 64>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(64, 1) parrot_flash_attention_backward_hd128_bf16(FA_BWD_PARAMS) {
    fa_backward_tc<FaBf16, 128>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd32_tf32(FA_BWD_PARAMS) {
    fa_backward_tc<FaTf32, 32>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(128, 1) parrot_flash_attention_backward_hd64_tf32(FA_BWD_PARAMS) {
    fa_backward_tc<FaTf32, 64>(FA_BWD_ARGS);
}
extern "C" __global__ void __launch_bounds__(64, 1) parrot_flash_attention_backward_hd128_tf32(FA_BWD_PARAMS) {
    fa_backward_tc<FaTf32, 128>(FA_BWD_ARGS);
}

// Backward pre-pass (AttentionTiling.backward): D[b, h, q] = Σ_d dout[q, d]·out[q, d] = rowsum(dO∘O), one warp per
// row, rows ordered b, h, q. Block (32, 4).
extern "C" __global__ void __launch_bounds__(128) parrot_flash_attention_backward_pre_f32(
    float* D, const float* dout, const float* out, int B, int T, int H, int hd) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= (long long)B * H * T) return;
    const int lane = threadIdx.x;
    const int q = (int)(row % T);
    const int h = (int)((row / T) % H);
    const int b = (int)(row / ((long long)T * H));
    const long long off = ((long long)b * T + q) * H * hd + (long long)h * hd;
    float s = 0.0f;
    for (int d = lane; d < hd; d += PARROT_WARP) s = fmaf(dout[off + d], out[off + d], s);
    s = warp_sum(s);
    if (lane == 0) D[row] = s;
}

// ---- decoding: AttentionTiling.decode (split-KV) -----------------------------------------------------------------

// Launch 1: k and v of the token at pos into the caches (stream-ordered before the chunks read them).
extern "C" __global__ void __launch_bounds__(256) parrot_flash_attention_decode_append_f32(
    float* kCache, float* vCache, const float* qkv, int B, int H, int hd, int maxLen, int pos) {
    PARROT_GRID_STRIDE(i, (long long)B * H * hd) {
        const int d = (int)(i % hd);
        const long long bh = i / hd;
        const int b = (int)(bh / H), h = (int)(bh % H);
        const float* src = qkv + (long long)b * 3 * H * hd + (long long)h * 3 * hd;
        const long long c = (bh * maxLen + pos) * hd + d;
        kCache[c] = src[hd + d];
        vCache[c] = src[2 * hd + d];
    }
}

// Launch 2 (phase 1): grid (B·H, J), J = max over heads of the chunk count, block FA_DECODE_THREADS. Head h uses
// chunks c0 = firstKey(h, pos)/split .. c1 = pos/split; block j takes chunk c0 + j and exits at once past c1.
// A chunk writes (m_c, l_c, acc_c[0..hd)) to part[(bh·J + j)·(hd + 2) ...]: m_c = max score, P = exp(S − m_c),
// l_c = Σ P, acc_c = Σ P·v. Thread per key for the scores, thread per dim (keys in order) for acc_c.
extern "C" __global__ void __launch_bounds__(128) parrot_flash_attention_decode_split_f32(
    float* part, const float* qkv, const float* kCache, const float* vCache, int B, int H, int hd, int maxLen,
    int pos, int J, float scale, HeadParams hp) {
    __shared__ float qs[256];
    __shared__ float ps[FA_DECODE_SPLIT];
    __shared__ float red[PARROT_WARP];
    const int bh = blockIdx.x, j = blockIdx.y, b = bh / H, h = bh % H, tid = threadIdx.x;
    const int w = hp.window[h];
    const int kLo = fa_first_key(w, pos), c = kLo / FA_DECODE_SPLIT + j;
    if (c > pos / FA_DECODE_SPLIT) return;                 // uniform: this head has fewer chunks
    FA_COUNT(decodeChunks);
    const int from = max(kLo, c * FA_DECODE_SPLIT), to = min(pos, c * FA_DECODE_SPLIT + FA_DECODE_SPLIT - 1);
    const int n = to - from + 1;
    const float slope = hp.slope[h];
    const float* src = qkv + (long long)b * 3 * H * hd + (long long)h * 3 * hd;
    const float* kc = kCache + (long long)bh * maxLen * hd;
    const float* vc = vCache + (long long)bh * maxLen * hd;
    for (int d = tid; d < hd; d += FA_DECODE_THREADS) qs[d] = src[d];
    __syncthreads();
    float s = -CUDART_INF_F;
    if (tid < n) {
        const int k = from + tid;
        const float* kr = kc + (long long)k * hd;
        float dot = 0.0f;
        for (int d = 0; d < hd; ++d) dot = fmaf(qs[d], kr[d], dot);
        s = dot * scale - slope * (float)(pos - k);
    }
    const float mc = block_max(s, red);
    const float mUse = mc == -CUDART_INF_F ? 0.0f : mc;   // the −∞ guard (a chunk always has a key; kept for safety)
    const float p = tid < n ? expf(s - mUse) : 0.0f;
    ps[tid] = p;
    const float lc = block_sum(p, red);                   // its barriers also publish ps
    float* dst = part + ((long long)bh * J + j) * (hd + 2);
    for (int d = tid; d < hd; d += FA_DECODE_THREADS) {
        float a = 0.0f;
        for (int kk = 0; kk < n; ++kk) a = fmaf(ps[kk], vc[(long long)(from + kk) * hd + d], a);
        dst[2 + d] = a;
    }
    if (tid == 0) {
        dst[0] = mc;
        dst[1] = lc;
    }
}

// Launch 3 (phase 2): grid (B·H), block FA_DECODE_THREADS. M = max_c m_c, f_c = exp(m_c − M) (0 when m_c = −∞),
// l = Σ f_c·l_c, out = Σ f_c·acc_c / l, chunks in order. Only the head's own chunks are read (the model's exited
// blocks contribute f_c = 0).
extern "C" __global__ void __launch_bounds__(128) parrot_flash_attention_decode_combine_f32(
    float* out, const float* part, int B, int H, int hd, int pos, int J, HeadParams hp) {
    const int bh = blockIdx.x, b = bh / H, h = bh % H;
    const int nC = pos / FA_DECODE_SPLIT - fa_first_key(hp.window[h], pos) / FA_DECODE_SPLIT + 1;
    const float* pp = part + (long long)bh * J * (hd + 2);
    float M = -CUDART_INF_F;
    for (int c = 0; c < nC; ++c) M = fmaxf(M, pp[(long long)c * (hd + 2)]);
    float l = 0.0f;
    for (int c = 0; c < nC; ++c) {
        const float mc = pp[(long long)c * (hd + 2)];
        const float f = mc == -CUDART_INF_F ? 0.0f : expf(mc - M);
        l += f * pp[(long long)c * (hd + 2) + 1];
    }
    float* o = out + (long long)b * H * hd + (long long)h * hd;
    for (int d = threadIdx.x; d < hd; d += FA_DECODE_THREADS) {
        float a = 0.0f;
        for (int c = 0; c < nC; ++c) {
            const float mc = pp[(long long)c * (hd + 2)];
            const float f = mc == -CUDART_INF_F ? 0.0f : expf(mc - M);
            a += f * pp[(long long)c * (hd + 2) + 2 + d];
        }
        o[d] = a / l;
    }
}
