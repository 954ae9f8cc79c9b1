// Masked softmax cross-entropy and argmax over logits rows (launcher: CrossEntropyKernels.java).
// One block of CE_THREADS threads per row.
#include "common.cuh"

// rowLoss[n] = logsumexp(logits[n]) − logits[n, t] for t = targets[n] ≥ 0, else 0 (masked). If dlogits is not
// null it is OVERWRITTEN: gradScale·(softmax − onehot(t)) on unmasked rows, 0 on masked rows. A target ≥ V
// gives a NaN loss (and NaN gradient row) so that the error is seen. The loss sum is reduced afterwards by the
// deterministic two-pass sum in elementwise.cu.
extern "C" __global__ void parrot_cross_entropy_f32(double* rowLoss, float* dlogits, const float* logits,
                                                    const int* targets, int N, int V, float gradScale) {
    __shared__ float shared[PARROT_WARP];
    const int n = blockIdx.x;
    if (n >= N) return;
    const int t = targets[n];
    const float* x = logits + (long long)n * V;
    float* g = dlogits ? dlogits + (long long)n * V : nullptr;
    if (t < 0) {
        if (g)
            for (int v = threadIdx.x; v < V; v += blockDim.x) g[v] = 0.0f;
        if (threadIdx.x == 0) rowLoss[n] = 0.0;
        return;                                  // uniform per block: no barrier is skipped by a subset
    }
    float mx = -CUDART_INF_F;
    for (int v = threadIdx.x; v < V; v += blockDim.x) mx = fmaxf(mx, x[v]);
    mx = block_max(mx, shared);
    float se = 0.0f;
    for (int v = threadIdx.x; v < V; v += blockDim.x) se += expf(x[v] - mx);
    se = block_sum(se, shared);
    const float lse = mx + logf(se);
    const bool valid = t < V;
    if (threadIdx.x == 0) rowLoss[n] = valid ? (double)(lse - x[t]) : (double)CUDART_NAN_F;
    if (g) {
        for (int v = threadIdx.x; v < V; v += blockDim.x) {
            const float p = expf(x[v] - lse);
            g[v] = valid ? gradScale * (p - (v == t ? 1.0f : 0.0f)) : CUDART_NAN_F;
        }
    }
}

// out[n] = argmax_v logits[n, v], lowest index on ties (NaN never wins).
extern "C" __global__ void parrot_argmax_f32(int* out, const float* logits, int N, int V) {
    __shared__ float sv[PARROT_WARP];
    __shared__ int si[PARROT_WARP];
    const int n = blockIdx.x;
    if (n >= N) return;
    const float* x = logits + (long long)n * V;
    float best = -CUDART_INF_F;
    int bi = V;                                   // "none yet": loses every tie
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        const float val = x[v];
        if (val > best || (bi == V && val == best)) { best = val; bi = v; }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(PARROT_FULL_MASK, best, o);
        const int oi = __shfl_xor_sync(PARROT_FULL_MASK, bi, o);
        if (ov > best || (ov == best && oi < bi)) { best = ov; bi = oi; }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        best = lane < warps ? sv[lane] : -CUDART_INF_F;
        bi = lane < warps ? si[lane] : V;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(PARROT_FULL_MASK, best, o);
            const int oi = __shfl_xor_sync(PARROT_FULL_MASK, bi, o);
            if (ov > best || (ov == best && oi < bi)) { best = ov; bi = oi; }
        }
        if (lane == 0) out[n] = bi < V ? bi : 0;  // an all-NaN row gives 0
    }
}
