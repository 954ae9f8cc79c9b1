// Linear layer helpers and the built-in GEMM used when cuBLAS cannot load (launcher: LinearKernels.java).
#include "common.cuh"

// out[n, o] += bias[o] over out [N, O].
extern "C" __global__ void parrot_bias_add_f32(float* out, const float* bias, int N, int O) {
    const long long total = (long long)N * O;
    PARROT_GRID_STRIDE(i, total) out[i] += bias[i % O];
}

// dbias[o] += Σ_n dout[n, o]. blockDim = (32, 8): column per threadIdx.x, row phase per threadIdx.y; the 8
// phase sums are added in order. Deterministic.
#define PARROT_COLS_ROWS 8
extern "C" __global__ void parrot_bias_grad_f32(float* dbias, const float* dout, int N, int O) {
    __shared__ float sb[PARROT_COLS_ROWS][PARROT_WARP + 1];
    const int o = blockIdx.x * PARROT_WARP + threadIdx.x;
    float acc = 0.0f;
    if (o < O)
        for (int r = threadIdx.y; r < N; r += PARROT_COLS_ROWS) acc += dout[(long long)r * O + o];
    sb[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && o < O) {
        float t = 0.0f;
#pragma unroll
        for (int k = 0; k < PARROT_COLS_ROWS; ++k) t += sb[k][threadIdx.x];
        dbias[o] += t;
    }
}

// ---- built-in GEMM (row-major) --------------------------------------------------------------------------
// C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, all row-major with row lengths lda, ldb, ldc:
//   op(A)(m,k) = transA ? A[k·lda + m] : A[m·lda + k]
//   op(B)(k,n) = transB ? B[n·ldb + k] : B[k·ldb + n]
// When beta == 0, C is not read (it may hold NaN). 64×64 tile per block, K in steps of 16, 256 threads each
// owning a 4×4 sub-tile (rows ty+16i, cols tx+16j). Each C element sums k in increasing order: deterministic.
#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 16
#define GEMM_THREADS 256

extern "C" __global__ void __launch_bounds__(GEMM_THREADS)
parrot_gemm_f32(float* C, const float* A, const float* B, int M, int N, int K, int lda, int ldb, int ldc,
                int transA, int transB, float alpha, float beta) {
    __shared__ float As[GEMM_BK][GEMM_BM + 1];
    __shared__ float Bs[GEMM_BK][GEMM_BN + 1];
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += GEMM_BK) {
#pragma unroll
        for (int l = 0; l < 4; ++l) {
            const int e = tid + GEMM_THREADS * l;              // 0 .. 1023
            int ml, kl;
            if (transA) { ml = e % GEMM_BM; kl = e / GEMM_BM; }  // coalesced along m
            else        { kl = e % GEMM_BK; ml = e / GEMM_BK; }  // coalesced along k
            const int m = m0 + ml, k = k0 + kl;
            float a = 0.0f;
            if (m < M && k < K) a = transA ? A[(long long)k * lda + m] : A[(long long)m * lda + k];
            As[kl][ml] = a;
            int nl;
            if (transB) { kl = e % GEMM_BK; nl = e / GEMM_BK; }  // coalesced along k
            else        { nl = e % GEMM_BN; kl = e / GEMM_BN; }  // coalesced along n
            const int n = n0 + nl, kb = k0 + kl;
            float b = 0.0f;
            if (n < N && kb < K) b = transB ? B[(long long)n * ldb + kb] : B[(long long)kb * ldb + n];
            Bs[kl][nl] = b;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; ++kk) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + ty + 16 * i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int n = n0 + tx + 16 * j;
            if (n >= N) continue;
            float* c = C + (long long)m * ldc + n;
            *c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
        }
    }
}
