package parrot.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Row-major FP32 GEMM on the backend's stream: C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, with
 * op(A)(m,k) = transA ? A[k·lda + m] : A[m·lda + k] and op(B)(k,n) = transB ? B[n·ldb + k] : B[k·ldb + n].
 * When beta is 0, C is not read. Implemented by cuBLAS ({@link CublasGemm}) or by linear.cu's tiled kernel.
 */
interface Gemm extends AutoCloseable {
    /** "cublas" or "builtin". */
    String name();

    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CUdeviceptr a, int lda,
              CUdeviceptr b, int ldb, float beta, CUdeviceptr c, int ldc);

    @Override
    default void close() {
    }
}
