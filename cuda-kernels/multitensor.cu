// Multi-tensor optimizer kernels: AdamW over every parameter in one launch, and gradient-norm clipping computed
// and applied on the device (launcher: MultiTensorKernels.java; references: backend/cpu/AdamW.java and
// Backend#clipGradNorm). The tensors are reached through device tables the launcher uploads once per tensor
// list: ptrs (pointers), sizes (elements), and a work list of (tensor, first element) items of at most
// PARROT_MT_CHUNK elements each; a block takes one work item at a time.
#include "common.cuh"

#define PARROT_MT_CHUNK 8192     // elements per work item
#define PARROT_MT_THREADS 256

#ifndef __CUDACC__               // the CPU emulator: IEEE double ops without contraction
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
#endif

// torch.optim.AdamW over tensors ptrs[4i..4i+3] = (param, grad, m, v), decay 1 − lr·wd[i] rounded to float once
// (as the host does for parrot_adamw_f32), the other step constants as in optimizer.cu.
extern "C" __global__ void __launch_bounds__(PARROT_MT_THREADS)
parrot_multi_adamw_f32(const int* work, float* const* ptrs, const int* sizes, const double* wd, int nWork, double lr,
                       float beta1, float beta2, float eps, float stepSize, float bc2Sqrt) {
    for (int it = blockIdx.x; it < nWork; it += gridDim.x) {
        const int ti = work[2 * it], start = work[2 * it + 1];
        const int end = min(sizes[ti], start + PARROT_MT_CHUNK);
        float* p = ptrs[4 * ti];
        const float* g = ptrs[4 * ti + 1];
        float* m = ptrs[4 * ti + 2];
        float* v = ptrs[4 * ti + 3];
        const float decay = (float)__dadd_rn(1.0, -__dmul_rn(lr, wd[ti]));
        for (int i = start + threadIdx.x; i < end; i += blockDim.x) {
            const float gi = g[i];
            const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
            const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            const float denom = sqrtf(vi) / bc2Sqrt + eps;
            p[i] = p[i] * decay - stepSize * (mi / denom);
        }
    }
}

// partials[it] = Σ x² over work item it (in double, fixed order): grid-stride over items, one block each.
extern "C" __global__ void __launch_bounds__(PARROT_MT_THREADS)
parrot_multi_sum_squares_f32(double* partials, const int* work, float* const* ptrs, const int* sizes, int nWork) {
    __shared__ double shared[PARROT_WARP];
    for (int it = blockIdx.x; it < nWork; it += gridDim.x) {
        const int ti = work[2 * it], start = work[2 * it + 1];
        const int end = min(sizes[ti], start + PARROT_MT_CHUNK);
        const float* x = ptrs[ti];
        double acc = 0.0;
        for (int i = start + threadIdx.x; i < end; i += blockDim.x) {
            const double v = (double)x[i];
            acc += v * v;
        }
        acc = block_sum(acc, shared);
        if (threadIdx.x == 0) partials[it] = acc;
    }
}

// One block: result[0] = norm = √Σ partials, result[1] = the clip coefficient (torch.nn.utils.clip_grad_norm_:
// maxNorm / (norm + 1e-6) when maxNorm > 0 and norm > maxNorm, else exactly 1).
extern "C" __global__ void parrot_clip_coef_f64(double* result, const double* partials, int count, double maxNorm) {
    __shared__ double shared[PARROT_WARP];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) {
        const double norm = sqrt(acc);
        result[0] = norm;
        result[1] = maxNorm > 0.0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1.0;
    }
}

// x *= (float) result[1] over every work item; nothing is touched when the coefficient is 1.
extern "C" __global__ void __launch_bounds__(PARROT_MT_THREADS)
parrot_multi_scale_f32(const int* work, float* const* ptrs, const int* sizes, int nWork, const double* result) {
    const double coef = result[1];
    if (coef == 1.0) return;
    const float s = (float)coef;
    for (int it = blockIdx.x; it < nWork; it += gridDim.x) {
        const int ti = work[2 * it], start = work[2 * it + 1];
        const int end = min(sizes[ti], start + PARROT_MT_CHUNK);
        float* x = ptrs[ti];
        for (int i = start + threadIdx.x; i < end; i += blockDim.x) x[i] *= s;
    }
}
