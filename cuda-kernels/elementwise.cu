// Elementwise ops and the deterministic sum reductions (launcher: ElementwiseKernels.java).
#include "common.cuh"

// out = a + b; out may alias a or b.
extern "C" __global__ void parrot_add_f32(float* out, const float* a, const float* b, int n) {
    PARROT_GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

// dst += src.
extern "C" __global__ void parrot_accumulate_f32(float* dst, const float* src, int n) {
    PARROT_GRID_STRIDE(i, n) dst[i] += src[i];
}

// t *= s.
extern "C" __global__ void parrot_scale_f32(float* t, float s, int n) {
    PARROT_GRID_STRIDE(i, n) t[i] *= s;
}

// t[i] = v (used to poison buffers in tests and to fill constants).
extern "C" __global__ void parrot_fill_f32(float* t, float v, int n) {
    PARROT_GRID_STRIDE(i, n) t[i] = v;
}

// Exact GELU (erf form), GPT-NeoX hidden_act "gelu": 0.5·x·(1 + erf(x/√2)).
extern "C" __global__ void parrot_gelu_forward_f32(float* out, const float* in, int n) {
    PARROT_GRID_STRIDE(i, n) {
        const float x = in[i];
        out[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    }
}

// din += dout · gelu'(in), gelu'(x) = Φ(x) + x·φ(x).
extern "C" __global__ void parrot_gelu_backward_f32(float* din, const float* dout, const float* in, int n) {
    PARROT_GRID_STRIDE(i, n) {
        const float x = in[i];
        const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        const float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
        din[i] += dout[i] * (cdf + x * pdf);
    }
}

// ---- deterministic two-pass sums -----------------------------------------------------------------------
// Pass 1: a FIXED grid (chosen from n alone by the launcher, 256 threads a block) writes one partial per block;
// each thread walks a fixed grid-stride sequence, and the block reduces in a fixed tree. Pass 2: one block of
// 256 threads adds the partials in a fixed order. Accumulation is in double.

#define PARROT_SUM_THREADS 256

extern "C" __global__ void parrot_sum_squares_partial_f32(double* partials, const float* x, int n) {
    __shared__ double shared[PARROT_WARP];
    double acc = 0.0;
    PARROT_GRID_STRIDE(i, n) {
        const double v = (double)x[i];
        acc += v * v;
    }
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

extern "C" __global__ void parrot_sum_partial_f64(double* partials, const double* x, int n) {
    __shared__ double shared[PARROT_WARP];
    double acc = 0.0;
    PARROT_GRID_STRIDE(i, n) acc += x[i];
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// result[0] = Σ partials[0..count), one block.
extern "C" __global__ void parrot_sum_finalize_f64(double* result, const double* partials, int count) {
    __shared__ double shared[PARROT_WARP];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) result[0] = acc;
}
