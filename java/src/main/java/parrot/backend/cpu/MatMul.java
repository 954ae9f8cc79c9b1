package parrot.backend.cpu;

import parrot.backend.cpu.common.Simd;

/**
 * C += A·B on strided blocks for the ops that are small matrix products inside (attention per head): the
 * register-blocked Simd.gemm where the vector module is on, else the plain loop below, which defines it (each
 * element summed over p in order) and is what the float64 twin runs.
 */
final class MatMul {
    private MatMul() {
    }

    /** c[co + r·ldc + j] += Σ_p a[ao + r·lda + p·aps]·b[bo + p·ldb + j], r < m, j < n, p < k. */
    static void acc(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] b, int bo, int ldb,
                    int m, int k, int n) {
        if (m <= 0 || n <= 0 || k <= 0) return;
        if (Simd.gemm(c, co, ldc, a, ao, lda, aps, b, bo, ldb, m, k, n)) return;
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++) {
                float x = c[co + r * ldc + j];
                for (int p = 0; p < k; p++) x += a[ao + r * lda + p * aps] * b[bo + p * ldb + j];
                c[co + r * ldc + j] = x;
            }
    }
}
