// The recurrence of a torch.nn.LSTM layer, gates i, f, g, o (launcher: LstmKernels.java; reference:
// backend/cpu/Lstm.java). The input projection x·W_ihᵀ + b_ih is a GEMM done beforehand; what is left is
// sequential in time, so the launcher issues one fused kernel per time step: a warp owns one hidden unit, forms
// its four gate pre-activations W_hh·h_{t−1} (lanes along the hidden dim: coalesced rows of W_hh, which stays in
// L2 from step to step) for 4 sequences at a time, reduces them with one warp reduce-scatter, and applies the
// cell update, so gates never travel through device memory unactivated. The backward step is the mirror image
// with W_hhᵀ (transposed once per backward call); dW_hh is one GEMM over all steps afterwards.
#include "common.cuh"
#include "warp_reduce.cuh"

#define PARROT_LSTM_WARPS 8      // hidden units per block: blockDim = (32, 8)
#define PARROT_LSTM_BT 4         // sequences per pass of a warp

__device__ __forceinline__ float lstm_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// One time step t for all B sequences. Rows of h, c [B·L, H], gates, xProj [B·L, 4H] are b·L + t. The previous
// state of sequence b is hPrev[prevOffset + b·prevStride + k] (and cPrev likewise); null hPrev means zero state
// (t = 0). gates (activated i, f, g, o) and bhh may be null. hPrev must not alias this step's h rows; cPrev may
// be c itself (each (b, unit) is read, then written, by one thread).
extern "C" __global__ void __launch_bounds__(PARROT_WARP * PARROT_LSTM_WARPS)
parrot_lstm_forward_step_f32(float* h, float* c, float* gates, const float* xProj, const float* whh,
                             const float* bhh, const float* hPrev, const float* cPrev, int prevOffset,
                             int prevStride, int Bsz, int L, int t, int H) {
    __shared__ float sA[PARROT_LSTM_WARPS][4 * PARROT_LSTM_BT];
    const int lane = threadIdx.x, w = threadIdx.y;
    const int j = blockIdx.x * PARROT_LSTM_WARPS + w;
    if (j >= H) return;                                // whole warp leaves together; no block barriers below
    const long long H4 = 4LL * H;
    for (int b0 = 0; b0 < Bsz; b0 += PARROT_LSTM_BT) {
        float acc[4 * PARROT_LSTM_BT];                 // [gate][sequence]
#pragma unroll
        for (int q = 0; q < 4 * PARROT_LSTM_BT; ++q) acc[q] = 0.0f;
        if (hPrev) {
            for (int k = lane; k < H; k += PARROT_WARP) {
                float wv[4], hv[PARROT_LSTM_BT];
#pragma unroll
                for (int g = 0; g < 4; ++g) wv[g] = whh[(g * (long long)H + j) * H + k];
#pragma unroll
                for (int s = 0; s < PARROT_LSTM_BT; ++s)
                    hv[s] = b0 + s < Bsz ? hPrev[prevOffset + (long long)(b0 + s) * prevStride + k] : 0.0f;
#pragma unroll
                for (int g = 0; g < 4; ++g)
#pragma unroll
                    for (int s = 0; s < PARROT_LSTM_BT; ++s) acc[g * PARROT_LSTM_BT + s] += wv[g] * hv[s];
            }
        }
        const float r = warp_reduce_scatter<4 * PARROT_LSTM_BT>(acc, lane);
        if ((lane & 1) == 0) sA[w][warp_scatter_index<4 * PARROT_LSTM_BT>(lane)] = r;
        __syncwarp();
        const int b = b0 + lane;
        if (lane < PARROT_LSTM_BT && b < Bsz) {
            const long long row = (long long)b * L + t;
            float a[4];
#pragma unroll
            for (int g = 0; g < 4; ++g)
                a[g] = xProj[row * H4 + g * H + j] + (bhh ? bhh[g * H + j] : 0.0f) + sA[w][g * PARROT_LSTM_BT + lane];
            const float ig = lstm_sigmoid(a[0]), fg = lstm_sigmoid(a[1]), gg = tanhf(a[2]), og = lstm_sigmoid(a[3]);
            const float cp = hPrev ? cPrev[prevOffset + (long long)b * prevStride + j] : 0.0f;
            const float cn = fg * cp + ig * gg;
            if (gates) {
                gates[row * H4 + j] = ig;
                gates[row * H4 + H + j] = fg;
                gates[row * H4 + 2 * H + j] = gg;
                gates[row * H4 + 3 * H + j] = og;
            }
            c[row * H + j] = cn;
            h[row * H + j] = og * tanhf(cn);
        }
        __syncwarp();                                  // sA is reused by the next group of sequences
    }
}

// One step t of backpropagation through time, newest first. dhRec = W_hhᵀ·dG_{t+1} (whhT is W_hh transposed,
// [H, 4H]; zero at t = L−1), then for unit k: dh_t = dh[row] + dhRec, dc = dcCarry + dh_t·o·(1 − tanh²c_t),
// dG (gradient of the pre-activations) = (dc·g·i(1−i), dc·c_{t−1}·f(1−f), dc·i·(1−g²), dh_t·tanh c_t·o(1−o)),
// dcCarry ← dc·f. dG [B·L, 4H] rows t are written (rows t+1 read); dcCarry [B, H] is carried between launches;
// dxProj (may be null) accumulates dG.
extern "C" __global__ void __launch_bounds__(PARROT_WARP * PARROT_LSTM_WARPS)
parrot_lstm_backward_step_f32(float* dG, float* dcCarry, float* dxProj, const float* dh, const float* c,
                              const float* gates, const float* whhT, int Bsz, int L, int t, int H) {
    __shared__ float sR[PARROT_LSTM_WARPS][PARROT_LSTM_BT];
    const int lane = threadIdx.x, w = threadIdx.y;
    const int k = blockIdx.x * PARROT_LSTM_WARPS + w;
    if (k >= H) return;
    const long long H4 = 4LL * H;
    const bool last = t == L - 1;
    for (int b0 = 0; b0 < Bsz; b0 += PARROT_LSTM_BT) {
        float acc[PARROT_LSTM_BT];
#pragma unroll
        for (int s = 0; s < PARROT_LSTM_BT; ++s) acc[s] = 0.0f;
        if (!last) {
            for (long long j = lane; j < H4; j += PARROT_WARP) {
                const float wv = whhT[k * H4 + j];
#pragma unroll
                for (int s = 0; s < PARROT_LSTM_BT; ++s)
                    if (b0 + s < Bsz) acc[s] += wv * dG[((long long)(b0 + s) * L + t + 1) * H4 + j];
            }
        }
        const float r = warp_reduce_scatter<PARROT_LSTM_BT>(acc, lane);
        if ((lane & 7) == 0) sR[w][warp_scatter_index<PARROT_LSTM_BT>(lane)] = r;
        __syncwarp();
        const int b = b0 + lane;
        if (lane < PARROT_LSTM_BT && b < Bsz) {
            const long long row = (long long)b * L + t, gb = row * H4;
            const float ig = gates[gb + k], fg = gates[gb + H + k], gg = gates[gb + 2 * H + k], og = gates[gb + 3 * H + k];
            const float tc = tanhf(c[row * H + k]);
            const float dht = dh[row * H + k] + sR[w][lane];
            const float dcv = (last ? 0.0f : dcCarry[(long long)b * H + k]) + dht * og * (1.0f - tc * tc);
            const float cp = t > 0 ? c[(row - 1) * H + k] : 0.0f;
            const float gi = dcv * gg * ig * (1.0f - ig), gf = dcv * cp * fg * (1.0f - fg);
            const float g2 = dcv * ig * (1.0f - gg * gg), go = dht * tc * og * (1.0f - og);
            dG[gb + k] = gi;
            dG[gb + H + k] = gf;
            dG[gb + 2 * H + k] = g2;
            dG[gb + 3 * H + k] = go;
            if (dxProj) {
                dxProj[gb + k] += gi;
                dxProj[gb + H + k] += gf;
                dxProj[gb + 2 * H + k] += g2;
                dxProj[gb + 3 * H + k] += go;
            }
            dcCarry[(long long)b * H + k] = dcv * fg;
        }
        __syncwarp();
    }
}

// out [cols, rows] = inᵀ for in [rows, cols]; 32×32 tiles through shared memory, blockDim = (32, 8).
extern "C" __global__ void parrot_lstm_transpose_f32(float* out, const float* in, int rows, int cols) {
    __shared__ float tile[PARROT_WARP][PARROT_WARP + 1];
    const int c0 = blockIdx.x * PARROT_WARP, r0 = blockIdx.y * PARROT_WARP;
    for (int y = threadIdx.y; y < PARROT_WARP; y += blockDim.y) {
        const int r = r0 + y, c = c0 + threadIdx.x;
        tile[y][threadIdx.x] = r < rows && c < cols ? in[(long long)r * cols + c] : 0.0f;
    }
    __syncthreads();
    for (int y = threadIdx.y; y < PARROT_WARP; y += blockDim.y) {
        const int c = c0 + y, r = r0 + threadIdx.x;
        if (c < cols && r < rows) out[(long long)c * rows + r] = tile[threadIdx.x][y];
    }
}

// out[b·L + t] = t > 0 ? h[b·L + t − 1] : 0, rows of H: the previous hidden state of every step (dW_hh's GEMM).
extern "C" __global__ void parrot_lstm_shift_rows_f32(float* out, const float* h, int Bsz, int L, int H) {
    PARROT_GRID_STRIDE(i, (long long)Bsz * L * H) {
        const long long row = i / H;
        out[i] = row % L == 0 ? 0.0f : h[i - H];
    }
}
