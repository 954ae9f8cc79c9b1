// Mamba's selective scan (selective_scan_ref semantics, real A, time-varying B and C): forward, backward and one
// decoding step (launcher: ScanKernels.java; reference: backend/cpu/Scan.java; Java model of this file's chunking
// and combine order: backend/cpu/ScanChunking.java). See Backend#scanForward for the formulas and layouts.
//
// Layout: activations are channels last (u, delta, z, out [B·L, D]; B, C [B·L, N]), so a block takes 32
// consecutive channels of one sequence — lane = channel, every load and store of u, δ, z, out, du, dδ, dz is one
// 128-byte row segment — and parallelises over TIME with its 8 warps: a chunk of 64 steps (the checkpoint
// interval, Backend.scanChunkLength) is cut into 8 segments of 8 consecutive steps, one per warp, each thread
// owning (channel, segment). The chunk's B and C rows (64·N floats each, contiguous in memory) are staged in
// shared memory once and read by all lanes at the same address (broadcast). Per state n:
//   1. each thread composes its 8 steps' (a, b) = (exp(δA), δ·B·u) pairs into one (P, Q): h ↦ P·h + Q;
//   2. the 8 segment aggregates meet in shared memory (one barrier); a thread's entering state is the chunk's
//      carry pushed through the aggregates of the segments before its own, in order (≤ 7 FMAs);
//   3. it re-runs its 8 steps from there, adding C·h into y (kept in registers) — exp(δA) computed once;
//   4. the last segment's final state is the carry into the next chunk (kept in shared memory).
// Nothing per step is written but the outputs; the forward stores only the state entering each chunk, which is
// exactly the CPU's checkpoint layout [B, ceil(L/64), D, N], so either backend's backward can use it.
//
// The backward walks the chunks newest first: it recomputes the chunk's states from its checkpoint as above,
// runs the adjoint recurrence dh_t = exp(δ_{t+1}A)·dh_{t+1} + g_t·C_t the same way in reverse (segment
// aggregates, carry from the later chunk), and forms every gradient in registers. Reductions never use atomics:
//   - dB, dC (sums over channels): a warp reduce-scatter sums each step's 32 channels, the block's sums land in
//     the chunk's shared B/C tile (column n is dead once state n is done) and go out as per-block partials
//     [D/32][B·L][N]; parrot_scan_reduce_bc_f32 adds the channel blocks in order.
//   - dA, D, delta_bias (sums over time and batch): per (sequence, warp) partials, accumulated over the chunks by
//     the one thread that owns them; parrot_scan_reduce_params_f32 adds them over (sequence, warp) in order.
// So the result is bitwise reproducible. State: FP32 in registers and shared memory; d_state ≤ 64.
#include "common.cuh"
#include "warp_reduce.cuh"

#define PARROT_SCAN_CHUNK 64      // steps between saved states (CudaBackend.scanChunkLength())
#define PARROT_SCAN_ITEMS 8       // consecutive steps per thread
#define PARROT_SCAN_WARPS 8       // time segments (warps) per block
#define PARROT_SCAN_LANES 32      // channels per block
#define PARROT_SCAN_MAX_STATE 64  // d_state limit (shared tiles are CHUNK × MAX_STATE)
#define PARROT_SCAN_THREADS (PARROT_SCAN_LANES * PARROT_SCAN_WARPS)

static_assert(PARROT_SCAN_ITEMS * PARROT_SCAN_WARPS == PARROT_SCAN_CHUNK, "a chunk is WARPS segments of ITEMS");

#define PARROT_LOG2E 1.4426950408889634f

__device__ __forceinline__ float scan_softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }
// d softplus / dx with torch's threshold.
__device__ __forceinline__ float scan_softplus_grad(float x) { return x > 20.0f ? 1.0f : 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float scan_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float scan_silu(float x) { return x * scan_sigmoid(x); }
__device__ __forceinline__ float scan_silu_grad(float x) {
    const float s = scan_sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
}

// δ after bias and softplus.
__device__ __forceinline__ float scan_delta(const float* delta, const float* dbias, int softplus, long long i, int d) {
    const float v = delta[i] + (dbias ? dbias[d] : 0.0f);
    return softplus ? scan_softplus(v) : v;
}

// Stages rows t0 .. t0+steps−1 of B and C (contiguous: steps·N floats each) into the tiles, zeros past L.
__device__ __forceinline__ void scan_load_tiles(float* sB, float* sC, const float* Bm, const float* Cm,
                                                long long rowBase, int steps, int N, int tid) {
    const float* gB = Bm + rowBase * N;
    const float* gC = Cm + rowBase * N;
    const int have = steps * N;
    for (int i = tid; i < PARROT_SCAN_CHUNK * N; i += PARROT_SCAN_THREADS) {
        sB[i] = i < have ? gB[i] : 0.0f;
        sC[i] = i < have ? gC[i] : 0.0f;
    }
}

// out = (Σ_n C·h + D·u)·silu(z); ckpt [B, ceil(L/64), D, N] receives the state entering each chunk (zeros for
// chunk 0). grid = (ceil(D/32), B), block = (32, 8). Dskip, z, dbias may be null.
extern "C" __global__ void __launch_bounds__(PARROT_SCAN_THREADS)
parrot_scan_forward_f32(float* out, float* ckpt, const float* u, const float* delta, const float* A,
                        const float* Bm, const float* Cm, const float* Dskip, const float* z, const float* dbias,
                        int softplus, int Bsz, int L, int D, int N) {
    constexpr int K = PARROT_SCAN_ITEMS, W = PARROT_SCAN_WARPS;
    __shared__ float sB[PARROT_SCAN_CHUNK * PARROT_SCAN_MAX_STATE];
    __shared__ float sC[PARROT_SCAN_CHUNK * PARROT_SCAN_MAX_STATE];
    __shared__ float sP[2][W][PARROT_SCAN_LANES];          // segment aggregates, double-buffered by state
    __shared__ float sQ[2][W][PARROT_SCAN_LANES];
    __shared__ float sCarry[PARROT_SCAN_MAX_STATE][PARROT_SCAN_LANES + 1];   // state entering the chunk, [n][lane]

    const int lane = threadIdx.x, w = threadIdx.y, tid = w * PARROT_SCAN_LANES + lane;
    const int b = blockIdx.y, d0 = blockIdx.x * PARROT_SCAN_LANES, d = d0 + lane;
    const bool live = d < D;
    const int nd = min(PARROT_SCAN_LANES, D - d0);
    const int nChunks = (L + PARROT_SCAN_CHUNK - 1) / PARROT_SCAN_CHUNK;
    for (int i = tid; i < PARROT_SCAN_MAX_STATE * (PARROT_SCAN_LANES + 1); i += PARROT_SCAN_THREADS)
        (&sCarry[0][0])[i] = 0.0f;
    float pending = 0.0f;   // last warp: the chunk-end state of the previous n, written one barrier later
    int e = 0;

    for (int k = 0; k < nChunks; ++k) {
        const int t0 = k * PARROT_SCAN_CHUNK, steps = min(PARROT_SCAN_CHUNK, L - t0);
        __syncthreads();                                   // everyone is done with the previous chunk
        if (k > 0 && w == W - 1) sCarry[N - 1][lane] = pending;
        __syncthreads();
        float* ck = ckpt + ((long long)(b * nChunks + k) * D + d0) * N;   // [nd][N], contiguous
        for (int i = tid; i < nd * N; i += PARROT_SCAN_THREADS) ck[i] = sCarry[i % N][i / N];
        scan_load_tiles(sB, sC, Bm, Cm, (long long)b * L + t0, steps, N, tid);

        float dl[K], uu[K], y[K];
        const int tw = t0 + w * K;
#pragma unroll
        for (int j = 0; j < K; ++j) {
            const long long i = ((long long)b * L + tw + j) * D + d;
            const bool ok = live && tw + j < L;
            dl[j] = ok ? scan_delta(delta, dbias, softplus, i, d) : 0.0f;   // δ = 0: the identity step
            uu[j] = ok ? u[i] : 0.0f;
            y[j] = 0.0f;
        }
        __syncthreads();

        const float* sBw = sB + w * K * N;
        const float* sCw = sC + w * K * N;
        for (int n = 0; n < N; ++n) {
            const float a2 = live ? A[d * N + n] * PARROT_LOG2E : 0.0f;
            float a[K], bb[K], P = 1.0f, Q = 0.0f;
#pragma unroll
            for (int j = 0; j < K; ++j) {
                a[j] = exp2f(dl[j] * a2);
                bb[j] = dl[j] * uu[j] * sBw[j * N + n];
                P = a[j] * P;
                Q = a[j] * Q + bb[j];
            }
            sP[e][w][lane] = P;
            sQ[e][w][lane] = Q;
            __syncthreads();
            if (n > 0 && w == W - 1) sCarry[n - 1][lane] = pending;   // all reads of slot n−1 are done
            float h = sCarry[n][lane];
            for (int v = 0; v < w; ++v) h = sP[e][v][lane] * h + sQ[e][v][lane];
#pragma unroll
            for (int j = 0; j < K; ++j) {
                h = a[j] * h + bb[j];
                y[j] += sCw[j * N + n] * h;
            }
            pending = h;
            e ^= 1;
        }

#pragma unroll
        for (int j = 0; j < K; ++j) {
            if (!live || tw + j >= L) continue;
            const long long i = ((long long)b * L + tw + j) * D + d;
            float v = y[j];
            if (Dskip) v += Dskip[d] * uu[j];
            if (z) v *= scan_silu(z[i]);
            out[i] = v;
        }
    }
}

// Gradients of parrot_scan_forward_f32. du, ddelta, dz accumulate (+=) and may be null. The shared-parameter
// gradients go to partials that the reduce kernels add up:
//   pB, pC [gridDim.x][B·L][N]  this block's 32-channel sums of dB, dC (overwritten; null: not wanted)
//   pA [B][WARPS][N][D]         per (sequence, warp) sums of dA over time (overwritten; null: not wanted)
//   pD, pBias [B][WARPS][D]     likewise for D and delta_bias
// grid = (ceil(D/32), B), block = (32, 8).
extern "C" __global__ void __launch_bounds__(PARROT_SCAN_THREADS)
parrot_scan_backward_f32(float* du, float* ddelta, float* dz, float* pB, float* pC, float* pA, float* pD,
                         float* pBias, const float* dout, const float* ckpt, const float* u, const float* delta,
                         const float* A, const float* Bm, const float* Cm, const float* Dskip, const float* z,
                         const float* dbias, int softplus, int Bsz, int L, int D, int N) {
    constexpr int K = PARROT_SCAN_ITEMS, W = PARROT_SCAN_WARPS;
    __shared__ float sB[PARROT_SCAN_CHUNK * PARROT_SCAN_MAX_STATE];   // B, then this block's dB sums
    __shared__ float sC[PARROT_SCAN_CHUNK * PARROT_SCAN_MAX_STATE];   // C, then this block's dC sums
    __shared__ float sX[2][2][W][PARROT_SCAN_LANES];                  // [parity][P, Q][segment][lane]
    __shared__ float sR[PARROT_SCAN_MAX_STATE][PARROT_SCAN_LANES + 1];  // a·dh entering from the later chunk

    const int lane = threadIdx.x, w = threadIdx.y, tid = w * PARROT_SCAN_LANES + lane;
    const int b = blockIdx.y, d0 = blockIdx.x * PARROT_SCAN_LANES, d = d0 + lane;
    const bool live = d < D;
    const int nChunks = (L + PARROT_SCAN_CHUNK - 1) / PARROT_SCAN_CHUNK;
    const long long rows = (long long)Bsz * L;
    const bool wantBC = pB != nullptr || pC != nullptr;
    for (int i = tid; i < PARROT_SCAN_MAX_STATE * (PARROT_SCAN_LANES + 1); i += PARROT_SCAN_THREADS)
        (&sR[0][0])[i] = 0.0f;
    float pending = 0.0f;   // warp 0: the carry for the previous chunk of the previous n, written one barrier later
    float accD = 0.0f, accBias = 0.0f;
    int e = 0;

    for (int k = nChunks - 1; k >= 0; --k) {
        const int t0 = k * PARROT_SCAN_CHUNK, steps = min(PARROT_SCAN_CHUNK, L - t0);
        __syncthreads();
        if (k < nChunks - 1 && w == 0) sR[N - 1][lane] = pending;
        scan_load_tiles(sB, sC, Bm, Cm, (long long)b * L + t0, steps, N, tid);

        float dl[K], uu[K], g[K], y[K], gu[K], gd[K];   // gu, gd: ∂L/∂u, ∂L/∂δ (after softplus) summed over n
        const int tw = t0 + w * K;
#pragma unroll
        for (int j = 0; j < K; ++j) {
            const long long i = ((long long)b * L + tw + j) * D + d;
            const bool ok = live && tw + j < L;
            dl[j] = ok ? scan_delta(delta, dbias, softplus, i, d) : 0.0f;
            uu[j] = ok ? u[i] : 0.0f;
            float gg = ok ? dout[i] : 0.0f;
            if (ok && z) gg *= scan_silu(z[i]);
            g[j] = gg;                                     // ∂L/∂y
            y[j] = gu[j] = gd[j] = 0.0f;
        }
        const float* ck = ckpt + ((long long)(b * nChunks + k) * D + d) * N;
        float* sBw = sB + w * K * N;
        float* sCw = sC + w * K * N;
        __syncthreads();

        for (int n = 0; n < N; ++n) {
            const float An = live ? A[d * N + n] : 0.0f, a2 = An * PARROT_LOG2E;
            // forward over the segment: (P, Q) and, once the entering state is known, every state
            float a[K], P = 1.0f, Q = 0.0f;
#pragma unroll
            for (int j = 0; j < K; ++j) {
                a[j] = exp2f(dl[j] * a2);
                P = a[j] * P;
                Q = a[j] * Q + dl[j] * uu[j] * sBw[j * N + n];
            }
            sX[e][0][w][lane] = P;
            sX[e][1][w][lane] = Q;
            __syncthreads();
            if (n > 0 && w == 0) sR[n - 1][lane] = pending;
            float h = live ? ck[n] : 0.0f;
            for (int v = 0; v < w; ++v) h = sX[e][0][v][lane] * h + sX[e][1][v][lane];
            float hp[K], vals[2 * K];                      // hp: state before each step; vals: dB | dC terms
#pragma unroll
            for (int j = 0; j < K; ++j) {
                hp[j] = h;
                h = a[j] * h + dl[j] * uu[j] * sBw[j * N + n];
                y[j] += sCw[j * N + n] * h;
                vals[K + j] = g[j] * h;                    // ∂L/∂C[t,n] from this channel
            }
            // reverse over the segment: what it passes to the segment before, for a zero carry in
            float q = 0.0f;
#pragma unroll
            for (int j = K - 1; j >= 0; --j) q = a[j] * (q + g[j] * sCw[j * N + n]);
            e ^= 1;
            sX[e][0][w][lane] = P;
            sX[e][1][w][lane] = q;
            __syncthreads();
            float c = sR[n][lane];
            for (int v = W - 1; v > w; --v) c = sX[e][0][v][lane] * c + sX[e][1][v][lane];
            float dAp = 0.0f;
#pragma unroll
            for (int j = K - 1; j >= 0; --j) {
                const float Bv = sBw[j * N + n];
                const float dh = c + g[j] * sCw[j * N + n];          // ∂L/∂h_t
                gu[j] += dh * dl[j] * Bv;
                const float ddA = dh * hp[j] * a[j];                 // ∂L/∂(δ·A)
                gd[j] += ddA * An + dh * Bv * uu[j];
                dAp += ddA * dl[j];
                vals[j] = dh * dl[j] * uu[j];                        // ∂L/∂B[t,n] from this channel
                c = dh * a[j];
            }
            pending = c;
            if (pA && live) {
                float* p = pA + (((long long)b * W + w) * N + n) * D + d;
                *p = (k == nChunks - 1 ? 0.0f : *p) + dAp;
            }
            if (wantBC) {
                const float s = warp_reduce_scatter<2 * K>(vals, lane);
                __syncwarp();                                        // every lane has read column n
                if ((lane & 1) == 0) {
                    const int idx = warp_scatter_index<2 * K>(lane);
                    if (idx < K) sBw[idx * N + n] = s;
                    else sCw[(idx - K) * N + n] = s;
                }
            }
            e ^= 1;
        }

        __syncthreads();                                   // the tiles hold the block's dB, dC sums
        if (wantBC) {
            const long long base = ((long long)blockIdx.x * rows + (long long)b * L + t0) * N;
            for (int i = tid; i < steps * N; i += PARROT_SCAN_THREADS) {
                if (pB) pB[base + i] = sB[i];
                if (pC) pC[base + i] = sC[i];
            }
        }
#pragma unroll
        for (int j = 0; j < K; ++j) {
            if (!live || tw + j >= L) continue;
            const long long i = ((long long)b * L + tw + j) * D + d;
            if (dz) {
                const float ypre = y[j] + (Dskip ? Dskip[d] * uu[j] : 0.0f);
                dz[i] += dout[i] * ypre * scan_silu_grad(z[i]);
            }
            if (Dskip) {
                gu[j] += g[j] * Dskip[d];
                accD += g[j] * uu[j];
            }
            if (du) du[i] += gu[j];
            float dd = gd[j];
            if (softplus) dd *= scan_softplus_grad(delta[i] + (dbias ? dbias[d] : 0.0f));
            if (ddelta) ddelta[i] += dd;
            accBias += dd;
        }
    }
    if (live) {
        const long long p = ((long long)b * W + w) * D + d;
        if (pD) pD[p] = accD;
        if (pBias) pBias[p] = accBias;
    }
}

// dB[r, n] += Σ_blk pB[blk, r, n] and the same for dC, blocks in order. Either output may be null.
extern "C" __global__ void parrot_scan_reduce_bc_f32(float* dB, float* dC, const float* pB, const float* pC, int blocks,
                                                     int rows, int N) {
    const long long count = (long long)rows * N;
    PARROT_GRID_STRIDE(i, count) {
        float sb = 0.0f, sc = 0.0f;
        for (int k = 0; k < blocks; ++k) {
            if (dB) sb += pB[k * count + i];
            if (dC) sc += pC[k * count + i];
        }
        if (dB) dB[i] += sb;
        if (dC) dC[i] += sc;
    }
}

// dA[d, n] += Σ_b Σ_w pA[b, w, n, d]; dD[d], dBias[d] += Σ_b Σ_w p[b, w, d]; in that order. Any output may be null.
extern "C" __global__ void parrot_scan_reduce_params_f32(float* dA, float* dD, float* dBias, const float* pA,
                                                         const float* pD, const float* pBias, int Bsz, int D, int N) {
    constexpr int W = PARROT_SCAN_WARPS;
    PARROT_GRID_STRIDE(i, (long long)D * N) {
        const int d = (int)(i / N), n = (int)(i % N);
        if (dA) {
            float s = 0.0f;
            for (int b = 0; b < Bsz; ++b)
                for (int w = 0; w < W; ++w) s += pA[(((long long)b * W + w) * N + n) * D + d];
            dA[i] += s;
        }
        if (n == 0) {
            float sd = 0.0f, sb = 0.0f;
            for (int b = 0; b < Bsz; ++b)
                for (int w = 0; w < W; ++w) {
                    const long long p = ((long long)b * W + w) * D + d;
                    if (dD) sd += pD[p];
                    if (dBias) sb += pBias[p];
                }
            if (dD) dD[d] += sd;
            if (dBias) dBias[d] += sb;
        }
    }
}

// One decoding step: state [B, D, N] holds h_{t−1} and receives h_t; u, delta, z, out [B, D]; B, C [B, N].
// One thread per (sequence, channel), states in order; exp as in the forward, so decoding tracks training.
extern "C" __global__ void parrot_scan_step_f32(float* out, float* state, const float* u, const float* delta,
                                                const float* A, const float* Bm, const float* Cm, const float* Dskip,
                                                const float* z, const float* dbias, int softplus, int Bsz, int D,
                                                int N) {
    PARROT_GRID_STRIDE(i, (long long)Bsz * D) {
        const int b = (int)(i / D), d = (int)(i % D);
        const float dl = scan_delta(delta, dbias, softplus, i, d), uu = u[i];
        float* h = state + i * N;
        const float* bm = Bm + (long long)b * N;
        const float* cm = Cm + (long long)b * N;
        float y = 0.0f;
        for (int n = 0; n < N; ++n) {
            const float v = exp2f(dl * (A[d * N + n] * PARROT_LOG2E)) * h[n] + dl * uu * bm[n];
            h[n] = v;
            y += cm[n] * v;
        }
        if (Dskip) y += Dskip[d] * uu;
        if (z) y *= scan_silu(z[i]);
        out[i] = y;
    }
}

// Prefill: L decoding steps at once. state [B, D, N] holds h_{−1} on entry and receives h_{L−1}; u, delta, z, out
// [B·L, D]; B, C [B·L, N]. One thread per (sequence, channel) walks time with parrot_scan_step_f32's arithmetic, so
// prefill then steps equals stepping all the way; the chunked forward would keep only the states entering its
// chunks, not h_{L−1}. Parallel over B·D only: the GEMMs around it are what prefill gains over stepping.
extern "C" __global__ void parrot_scan_prefill_f32(float* out, float* state, const float* u, const float* delta,
                                                   const float* A, const float* Bm, const float* Cm,
                                                   const float* Dskip, const float* z, const float* dbias,
                                                   int softplus, int Bsz, int L, int D, int N) {
    PARROT_GRID_STRIDE(i, (long long)Bsz * D) {
        const int b = (int)(i / D), d = (int)(i % D);
        float* h = state + i * N;
        for (int t = 0; t < L; ++t) {
            const long long r = (long long)b * L + t, j = r * D + d;
            const float dl = scan_delta(delta, dbias, softplus, j, d), uu = u[j];
            const float* bm = Bm + r * N;
            const float* cm = Cm + r * N;
            float y = 0.0f;
            for (int n = 0; n < N; ++n) {
                const float v = exp2f(dl * (A[d * N + n] * PARROT_LOG2E)) * h[n] + dl * uu * bm[n];
                h[n] = v;
                y += cm[n] * v;
            }
            if (Dskip) y += Dskip[d] * uu;
            if (z) y *= scan_silu(z[j]);
            out[j] = y;
        }
    }
}
