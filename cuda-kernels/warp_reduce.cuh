// Warp-level reductions of many values at once, shared by the recurrent kernels (scan.cu, lstm.cu).
// Only __shfl_xor_sync is used, so the kernels also run in the CPU emulator (emu/).
#pragma once

#include "common.cuh"

// log2 of a power of two, at compile time.
template <int M>
struct parrot_log2 {
    static constexpr int value = 1 + parrot_log2<M / 2>::value;
};
template <>
struct parrot_log2<1> {
    static constexpr int value = 0;
};

// Reduce-scatter of M values (M a power of two, 1..32) over the 32 lanes of a warp. On return each lane holds
// the sum over all 32 lanes of value index warp_scatter_index<M>(lane); v is clobbered. Costs M − 1 + 5 − log2 M
// shuffles instead of 5·M for M separate warp_sums: while values remain, lanes exchange half of them with the
// partner across bit o (o = 16, 8, …), the lane with bit o set keeping the upper half. Every value's sum is the
// same fixed tree for every launch — lanes paired across bit 4 first, then 3, 2, 1, 0 — so the result is
// bitwise reproducible (and ScanChunking.laneSum models it in Java).
template <int M>
__device__ __forceinline__ float warp_reduce_scatter(float (&v)[M], int lane) {
    static_assert(M >= 1 && M <= 32 && (M & (M - 1)) == 0, "M must be a power of two up to 32");
#pragma unroll
    for (int m = M, o = 16; m > 1; m >>= 1, o >>= 1) {
        const bool upper = (lane & o) != 0;
#pragma unroll
        for (int i = 0; i < m / 2; ++i) {
            const float send = upper ? v[i] : v[i + m / 2];
            const float keep = upper ? v[i + m / 2] : v[i];
            v[i] = keep + __shfl_xor_sync(PARROT_FULL_MASK, send, o);
        }
    }
    float r = v[0];
#pragma unroll
    for (int o = 16 / M; o > 0; o >>= 1) r += __shfl_xor_sync(PARROT_FULL_MASK, r, o);
    return r;
}

// Which value's sum lane holds after warp_reduce_scatter<M>: its top log2(M) bits.
template <int M>
__device__ __forceinline__ int warp_scatter_index(int lane) {
    return lane >> (5 - parrot_log2<M>::value);
}
