// Causal depthwise conv1d over time, Mamba's conv1d (groups = channels, padding K−1, first L outputs), on
// channels-last activations [B·L, C] with weight [C, K] (launcher: Conv1dKernels.java; reference:
// backend/cpu/Conv1d.java). Thread per (row, channel): loads and stores are coalesced across channels, and the
// K−1 rows of history a thread re-reads are its neighbours' rows, served by L1. Every sum runs in the CPU
// reference's order; the weight gradient is a deterministic two-pass column reduction.
#include "common.cuh"

#define PARROT_CONV_MAX_K 8      // kernel widths up to this (Mamba's d_conv is 4)
#define PARROT_CONV_ROWS 8       // blockDim.y of the weight-gradient kernel (row phases)

// out[b,t,c] = bias[c] + Σ_{j<K} w[c,j]·in[b, t−K+1+j, c] (in at negative times = 0). bias may be null.
// out must not alias in.
extern "C" __global__ void parrot_conv1d_forward_f32(float* out, const float* in, const float* w, const float* bias,
                                                     int Bsz, int L, int C, int K) {
    PARROT_GRID_STRIDE(i, (long long)Bsz * L * C) {
        const long long r = i / C;
        const int c = (int)(i % C), t = (int)(r % L);
        float acc = bias ? bias[c] : 0.0f;
        for (int j = 0; j < K; ++j) {
            const int ts = t - K + 1 + j;
            if (ts >= 0) acc += w[c * K + j] * in[(r - t + ts) * C + c];
        }
        out[i] = acc;
    }
}

// din[b,t,c] += Σ_j w[c,j]·dout[b, t+K−1−j, c] (dout past the end = 0), j in order.
extern "C" __global__ void parrot_conv1d_backward_dx_f32(float* din, const float* dout, const float* w, int Bsz, int L,
                                                         int C, int K) {
    PARROT_GRID_STRIDE(i, (long long)Bsz * L * C) {
        const long long r = i / C;
        const int c = (int)(i % C), t = (int)(r % L);
        float acc = din[i];
        for (int j = 0; j < K; ++j) {
            const int to = t + K - 1 - j;
            if (to < L) acc += w[c * K + j] * dout[(r - t + to) * C + c];
        }
        din[i] = acc;
    }
}

// Pass 1 of dweight, dbias: block (32, 8), grid (ceil(C/32), segments). Thread (c, phase y) of segment s sums rows
// s·rowsPerSeg + y, +8, … of Σ dout·in (per tap j) and Σ dout; the 8 phases are added in order into
// partial[s][c][K+1] (slot K: the bias).
extern "C" __global__ void parrot_conv1d_backward_dw_partial_f32(float* partial, const float* dout, const float* in,
                                                                 int Bsz, int L, int C, int K, int rowsPerSeg) {
    __shared__ float s[PARROT_CONV_ROWS][PARROT_CONV_MAX_K + 1][PARROT_WARP + 1];
    const int c = blockIdx.x * PARROT_WARP + threadIdx.x, seg = blockIdx.y;
    const long long rows = (long long)Bsz * L;
    const long long r0 = (long long)seg * rowsPerSeg, r1 = min(rows, r0 + rowsPerSeg);
    float acc[PARROT_CONV_MAX_K + 1];
#pragma unroll
    for (int j = 0; j <= PARROT_CONV_MAX_K; ++j) acc[j] = 0.0f;
    if (c < C) {
        for (long long r = r0 + threadIdx.y; r < r1; r += PARROT_CONV_ROWS) {
            const int t = (int)(r % L);
            const float g = dout[r * C + c];
            acc[PARROT_CONV_MAX_K] += g;
#pragma unroll
            for (int j = 0; j < PARROT_CONV_MAX_K; ++j) {
                const int ts = t - K + 1 + j;
                if (j < K && ts >= 0) acc[j] += g * in[(r - t + ts) * C + c];
            }
        }
    }
#pragma unroll
    for (int j = 0; j <= PARROT_CONV_MAX_K; ++j) s[threadIdx.y][j][threadIdx.x] = acc[j];
    __syncthreads();
    if (c >= C) return;
    for (int j = threadIdx.y; j <= K; j += PARROT_CONV_ROWS) {
        const int slot = j < K ? j : PARROT_CONV_MAX_K;
        float tot = 0.0f;
#pragma unroll
        for (int y = 0; y < PARROT_CONV_ROWS; ++y) tot += s[y][slot][threadIdx.x];
        partial[((long long)seg * C + c) * (K + 1) + j] = tot;
    }
}

// Pass 2: dw[c,j] += Σ_s partial[s][c][j], db[c] += Σ_s partial[s][c][K], segments in order. Either may be null.
extern "C" __global__ void parrot_conv1d_backward_dw_finalize_f32(float* dw, float* db, const float* partial,
                                                                  int segments, int C, int K) {
    PARROT_GRID_STRIDE(i, (long long)C * (K + 1)) {
        const int c = (int)(i / (K + 1)), j = (int)(i % (K + 1));
        float tot = 0.0f;
        for (int s = 0; s < segments; ++s) tot += partial[((long long)s * C + c) * (K + 1) + j];
        if (j < K) {
            if (dw) dw[c * K + j] += tot;
        } else if (db) {
            db[c] += tot;
        }
    }
}

// One decoding step with a rolling window: state [B, C, K−1] holds the previous K−1 inputs, oldest first.
// out[b,c] = bias[c] + Σ_{j<K−1} w[c,j]·state[b,c,j] + w[c,K−1]·in[b,c]; then the window moves on.
extern "C" __global__ void parrot_conv1d_step_f32(float* out, float* state, const float* in, const float* w,
                                                  const float* bias, int Bsz, int C, int K) {
    const int m = K - 1;
    PARROT_GRID_STRIDE(i, (long long)Bsz * C) {
        const int c = (int)(i % C);
        float* st = state + i * m;
        const float x = in[i];
        float acc = bias ? bias[c] : 0.0f;
        for (int j = 0; j < m; ++j) acc += w[c * K + j] * st[j];
        acc += w[c * K + m] * x;
        out[i] = acc;
        for (int j = 0; j + 1 < m; ++j) st[j] = st[j + 1];
        if (m > 0) st[m - 1] = x;
    }
}

// Prefill of a fresh rolling window: state [B, C, K−1] receives the last K−1 inputs of in [B·L, C] (oldest
// first, zeros before time 0), what L decoding steps from a zero window leave there.
extern "C" __global__ void parrot_conv1d_fill_state_f32(float* state, const float* in, int Bsz, int L, int C,
                                                        int K) {
    const int m = K - 1;
    PARROT_GRID_STRIDE(i, (long long)Bsz * C * m) {
        const int j = (int)(i % m);
        const long long bc = i / m;
        const int c = (int)(bc % C), b = (int)(bc / C);
        const int t = L - m + j;
        state[i] = t >= 0 ? in[((long long)b * L + t) * C + c] : 0.0f;
    }
}
