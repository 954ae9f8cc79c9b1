// parrot CUDA kernels: shared helpers. Every kernel file includes this header.
//
// Conventions (mirrors parrot.backend.Backend):
//  - float32 activations, row-major; int32 token ids / targets.
//  - Backward kernels ACCUMULATE (+=) into every gradient pointer they are given; a null pointer is skipped.
//  - Every reduction runs in a fixed order that depends only on the launch shape, never on timing, so
//    results are bitwise reproducible run to run (no float atomics anywhere).
//  - Launch shapes are chosen by the Java launchers (parrot.backend.cuda.*Kernels); the constants below are
//    repeated there and must agree.
#pragma once

#include <math_constants.h>

#define PARROT_WARP 32
#define PARROT_FULL_MASK 0xffffffffu

// Attention heads whose per-head window and ALiBi slope are passed by value (no upload per call).
#define PARROT_MAX_HEADS 64

// Per-head masking parameters of parrot.backend.AttentionSpec, passed by value as one kernel argument:
// window[h] = 0 for plain causal, w > 0 for "query q sees keys q-w+1 .. q"; slope[h] = ALiBi m (0 = none).
struct HeadParams {
    int window[PARROT_MAX_HEADS];
    float slope[PARROT_MAX_HEADS];
};

// Sum over the 32 lanes of a warp. The xor butterfly leaves the bitwise-identical result in every lane
// (a+b == b+a exactly), so lanes may branch on it uniformly.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(PARROT_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(PARROT_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(PARROT_FULL_MASK, v, o));
    return v;
}

// Block-wide sum; every thread of the block must call it; the result is returned to every thread.
// shared must hold PARROT_WARP values. blockDim.x must be a multiple of 32 (at most 1024).
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* shared) {
    const int lane = threadIdx.x & (PARROT_WARP - 1);
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();                       // shared may still be read by a previous call
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    T r = lane < warps ? shared[lane] : T(0);
    r = warp_sum(r);                       // every warp reduces the same values in the same order
    return r;
}

__device__ __forceinline__ float block_max(float v, float* shared) {
    const int lane = threadIdx.x & (PARROT_WARP - 1);
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float r = lane < warps ? shared[lane] : -CUDART_INF_F;
    return warp_max(r);
}

// Global index helpers for grid-stride loops over n elements (n < 2^31, checked by the launchers).
#define PARROT_GRID_STRIDE(i, n)                                                                    \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n);        \
         i += (long long)blockDim.x * gridDim.x)
