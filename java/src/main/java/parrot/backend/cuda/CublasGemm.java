package parrot.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

/**
 * cuBLAS SGEMM through JCublas2 (pure FP32: the default math mode, no TF32). Row-major C = op(A)·op(B) is
 * computed as column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. the operands swapped with their own transpose flags.
 */
final class CublasGemm implements Gemm {
    private final cublasHandle handle = new cublasHandle();
    private final String version;
    private boolean open;

    /**
     * Loads libJCublas2 (which binds libcublas.so.12) and creates a handle on the current context. Any failure,
     * including an UnsatisfiedLinkError from a host that only has libcublas.so.13, becomes a CudaException whose
     * message says why.
     */
    CublasGemm(CUstream stream) {
        try {
            JCublas2.setExceptionsEnabled(false);
            JCublas2.initialize();
        } catch (Throwable t) {
            throw new CudaException("cuBLAS unavailable: JCublas2 could not load (" + t.getClass().getSimpleName()
                    + ": " + t.getMessage() + "); JCublas 12.6 needs libcublas.so.12", -1, t);
        }
        check(JCublas2.cublasCreate(handle), "cublasCreate");
        open = true;
        try {
            check(JCublas2.cublasSetStream(handle, new cudaStream_t(stream)), "cublasSetStream");
            int[] v = new int[1];
            check(JCublas2.cublasGetVersion(handle, v), "cublasGetVersion");
            version = v[0] / 10000 + "." + (v[0] % 10000) / 100 + "." + v[0] % 100;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static void check(int status, String what) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS)
            throw new CudaException(what + " failed: " + cublasStatus.stringFor(status), status, null);
    }

    String version() {
        return version;
    }

    @Override
    public String name() {
        return "cublas";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CUdeviceptr a, int lda,
                     CUdeviceptr b, int ldb, float beta, CUdeviceptr c, int ldc) {
        int st = JCublas2.cublasSgemm(handle,
                transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                n, m, k, Pointer.to(new float[] {alpha}), b, ldb, a, lda, Pointer.to(new float[] {beta}), c, ldc);
        if (st != cublasStatus.CUBLAS_STATUS_SUCCESS)
            throw new CudaException("cublasSgemm(transA=" + transA + ", transB=" + transB + ", M=" + m + ", N=" + n
                    + ", K=" + k + ") failed: " + cublasStatus.stringFor(st), st, null);
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            JCublas2.cublasDestroy(handle);
        }
    }
}
