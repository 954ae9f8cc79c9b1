// Token embedding lookup and its gradient (launcher: EmbeddingKernels.java).
#include "common.cuh"

// out[n, :] = table[tokens[n], :]; one block per row n. A token outside [0, V) yields a NaN row, so a bad id
// shows up in the loss instead of reading out of bounds.
extern "C" __global__ void parrot_embedding_forward_f32(float* out, const int* tokens, const float* table,
                                                        int N, int C, int V) {
    const int n = blockIdx.x;
    if (n >= N) return;
    const int tok = tokens[n];
    float* o = out + (long long)n * C;
    if (tok < 0 || tok >= V) {
        for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = CUDART_NAN_F;
        return;
    }
    const float* row = table + (long long)tok * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = row[c];
}

// dtable[tokens[n], c] += dout[n, c], deterministically and without atomics: the thread (c, slice) owns column
// c of the vocabulary rows [slice·vocabSlice, (slice+1)·vocabSlice) and walks n = 0..N-1 in order, so every
// dtable element is written by exactly one thread in a fixed order. grid = (ceil(C/blockDim.x), ceil(V/vocabSlice)).
extern "C" __global__ void parrot_embedding_backward_f32(float* dtable, const float* dout, const int* tokens,
                                                         int N, int C, int V, int vocabSlice) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int v0 = blockIdx.y * vocabSlice;
    const int v1 = min(V, v0 + vocabSlice);
    if (c >= C) return;
    for (int n = 0; n < N; ++n) {
        const int tok = tokens[n];
        if (tok >= v0 && tok < v1) dtable[(long long)tok * C + c] += dout[(long long)n * C + c];
    }
}
