// The Mamba block's small ops: SiLU, −exp (A = −exp(A_log)) and column-block copies that split and merge fused
// projections (launcher: PointwiseKernels.java; references: backend/cpu/Silu.java, Elementwise.java).
#include "common.cuh"

__device__ __forceinline__ float pw_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// out = x·σ(x); out may alias in.
extern "C" __global__ void parrot_silu_forward_f32(float* out, const float* in, int n) {
    PARROT_GRID_STRIDE(i, n) {
        const float x = in[i];
        out[i] = x * pw_sigmoid(x);
    }
}

// din += dout·σ(x)·(1 + x·(1 − σ(x))).
extern "C" __global__ void parrot_silu_backward_f32(float* din, const float* dout, const float* in, int n) {
    PARROT_GRID_STRIDE(i, n) {
        const float x = in[i], s = pw_sigmoid(x);
        din[i] += dout[i] * (s * (1.0f + x * (1.0f - s)));
    }
}

// out = −exp(in).
extern "C" __global__ void parrot_negexp_forward_f32(float* out, const float* in, int n) {
    PARROT_GRID_STRIDE(i, n) out[i] = -expf(in[i]);
}

// din += dout·out (out = −exp(in) is its own derivative).
extern "C" __global__ void parrot_negexp_backward_f32(float* din, const float* dout, const float* out, int n) {
    PARROT_GRID_STRIDE(i, n) din[i] += dout[i] * out[i];
}

// dst[r, dstCol + j] (+)= src[r, srcCol + j] for j < width, r < rows (row lengths dstCols, srcCols).
extern "C" __global__ void parrot_copy_columns_f32(float* dst, int dstCols, int dstCol, const float* src, int srcCols,
                                                   int srcCol, int width, int rows, int accumulate) {
    PARROT_GRID_STRIDE(i, (long long)rows * width) {
        const long long r = i / width;
        const int j = (int)(i % width);
        const float v = src[r * srcCols + srcCol + j];
        float* d = dst + r * dstCols + dstCol + j;
        *d = accumulate ? *d + v : v;
    }
}
