// RMSNorm over the last dim, x·rstd·w with rstd = 1/√(mean(x²) + eps), no bias (mamba_ssm RMSNorm; launcher:
// RmsNormKernels.java; reference: backend/cpu/RmsNorm.java). Warp-per-row kernels: blockDim = (32, rowsPerBlock).
#include "common.cuh"

// out = x·rstd·w, saves rstd[N]. out may alias in (each lane reads its elements before writing them).
extern "C" __global__ void parrot_rmsnorm_forward_f32(float* out, float* rstd, const float* in, const float* w, int N,
                                                      int C, float eps) {
    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= N) return;                       // whole warp leaves together
    const int lane = threadIdx.x;
    const float* x = in + (long long)row * C;
    float s = 0.0f;
    for (int c = lane; c < C; c += PARROT_WARP) s += x[c] * x[c];
    const float rs = rsqrtf(warp_sum(s) / (float)C + eps);
    float* o = out + (long long)row * C;
    for (int c = lane; c < C; c += PARROT_WARP) o[c] = x[c] * rs * w[c];
    if (lane == 0) rstd[row] = rs;
}

// din += rstd·w·dy − x·rstd³·mean(w·dy·x).
extern "C" __global__ void parrot_rmsnorm_backward_dx_f32(float* din, const float* dout, const float* in,
                                                          const float* w, const float* rstd, int N, int C) {
    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= N) return;
    const int lane = threadIdx.x;
    const long long base = (long long)row * C;
    const float s = rstd[row];
    float dot = 0.0f;
    for (int c = lane; c < C; c += PARROT_WARP) dot += w[c] * dout[base + c] * in[base + c];
    const float k = warp_sum(dot) / (float)C * s * s * s;
    for (int c = lane; c < C; c += PARROT_WARP) din[base + c] += s * w[c] * dout[base + c] - in[base + c] * k;
}

// dw[c] += Σ_n dout[n,c]·x[n,c]·rstd[n]. blockDim = (32, 8): column per threadIdx.x, row phase per threadIdx.y;
// the 8 phase sums are added in order. Deterministic.
#define PARROT_RMS_COLS_ROWS 8
extern "C" __global__ void parrot_rmsnorm_backward_dw_f32(float* dw, const float* dout, const float* in,
                                                          const float* rstd, int N, int C) {
    __shared__ float sw[PARROT_RMS_COLS_ROWS][PARROT_WARP + 1];
    const int c = blockIdx.x * PARROT_WARP + threadIdx.x;
    float acc = 0.0f;
    if (c < C)
        for (int r = threadIdx.y; r < N; r += PARROT_RMS_COLS_ROWS) {
            const long long idx = (long long)r * C + c;
            acc += dout[idx] * in[idx] * rstd[r];
        }
    sw[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float t = 0.0f;
#pragma unroll
        for (int k = 0; k < PARROT_RMS_COLS_ROWS; ++k) t += sw[k][threadIdx.x];
        dw[c] += t;
    }
}
