// AdamW, torch.optim.AdamW semantics (launcher: OptimizerKernels.java). The host computes the step constants in
// double: decay = 1 − lr·wd, stepSize = lr / (1 − β1^step), bc2Sqrt = √(1 − β2^step).
#include "common.cuh"

// p ← p·decay; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − stepSize·m / (√v / bc2Sqrt + eps).
extern "C" __global__ void parrot_adamw_f32(float* p, const float* g, float* m, float* v, int n, float decay,
                                            float beta1, float beta2, float eps, float stepSize, float bc2Sqrt) {
    PARROT_GRID_STRIDE(i, n) {
        const float gi = g[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2Sqrt + eps;
        p[i] = p[i] * decay - stepSize * (mi / denom);
    }
}
