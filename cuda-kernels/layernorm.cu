// LayerNorm over the last dim (launcher: LayerNormKernels.java). Warp-per-row kernels: blockDim = (32, rowsPerBlock).
#include "common.cuh"

// out = (x - mean)·rstd·weight + bias; saves mean[N], rstd[N] = 1/sqrt(var + eps) (biased variance, two-pass).
// weight or bias may be null (then 1 and 0).
extern "C" __global__ void parrot_layernorm_forward_f32(float* out, float* mean, float* rstd, const float* in,
                                                        const float* weight, const float* bias, int N, int C,
                                                        float eps) {
    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= N) return;                       // whole warp leaves together
    const int lane = threadIdx.x;
    const float* x = in + (long long)row * C;
    float s = 0.0f;
    for (int c = lane; c < C; c += PARROT_WARP) s += x[c];
    const float mu = warp_sum(s) / (float)C;
    float s2 = 0.0f;
    for (int c = lane; c < C; c += PARROT_WARP) {
        const float d = x[c] - mu;
        s2 += d * d;
    }
    const float var = warp_sum(s2) / (float)C;
    const float rs = rsqrtf(var + eps);
    float* o = out + (long long)row * C;
    for (int c = lane; c < C; c += PARROT_WARP) {
        const float w = weight ? weight[c] : 1.0f;
        const float b = bias ? bias[c] : 0.0f;
        o[c] = (x[c] - mu) * rs * w + b;
    }
    if (lane == 0) {
        mean[row] = mu;
        rstd[row] = rs;
    }
}

// din += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dout·weight, x̂ = (x − mean)·rstd.
extern "C" __global__ void parrot_layernorm_backward_dx_f32(float* din, const float* dout, const float* in,
                                                            const float* weight, const float* mean,
                                                            const float* rstd, int N, int C) {
    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= N) return;
    const int lane = threadIdx.x;
    const float* x = in + (long long)row * C;
    const float* dy = dout + (long long)row * C;
    const float mu = mean[row];
    const float rs = rstd[row];
    float sg = 0.0f, sgx = 0.0f;
    for (int c = lane; c < C; c += PARROT_WARP) {
        const float g = dy[c] * (weight ? weight[c] : 1.0f);
        sg += g;
        sgx += g * (x[c] - mu) * rs;
    }
    const float mg = warp_sum(sg) / (float)C;
    const float mgx = warp_sum(sgx) / (float)C;
    float* dx = din + (long long)row * C;
    for (int c = lane; c < C; c += PARROT_WARP) {
        const float g = dy[c] * (weight ? weight[c] : 1.0f);
        const float xh = (x[c] - mu) * rs;
        dx[c] += rs * (g - mg - xh * mgx);
    }
}

// Column reductions for the parameter gradients: dweight[c] += Σ_n dout[n,c]·x̂[n,c], dbias[c] += Σ_n dout[n,c].
// blockDim = (32, 8): threadIdx.x picks the column, threadIdx.y the row phase (rows y, y+8, ...); the 8 phase
// sums are then added in order 0..7. Deterministic. Either output may be null.
#define PARROT_COLS_ROWS 8
extern "C" __global__ void parrot_layernorm_backward_dwdb_f32(float* dweight, float* dbias, const float* dout,
                                                              const float* in, const float* mean,
                                                              const float* rstd, int N, int C) {
    __shared__ float sw[PARROT_COLS_ROWS][PARROT_WARP + 1];
    __shared__ float sb[PARROT_COLS_ROWS][PARROT_WARP + 1];
    const int c = blockIdx.x * PARROT_WARP + threadIdx.x;
    float aw = 0.0f, ab = 0.0f;
    if (c < C) {
        for (int r = threadIdx.y; r < N; r += PARROT_COLS_ROWS) {
            const long long idx = (long long)r * C + c;
            const float dy = dout[idx];
            aw += dy * (in[idx] - mean[r]) * rstd[r];
            ab += dy;
        }
    }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float tw = 0.0f, tb = 0.0f;
#pragma unroll
        for (int k = 0; k < PARROT_COLS_ROWS; ++k) {
            tw += sw[k][threadIdx.x];
            tb += sb[k][threadIdx.x];
        }
        if (dweight) dweight[c] += tw;
        if (dbias) dbias[c] += tb;
    }
}
