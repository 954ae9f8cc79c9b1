package parrot.backend.cuda;

import jcuda.driver.CUresult;

/**
 * A failed CUDA call. The message names what was being done (the kernel with its grid and block shape, the copy,
 * the allocation with the bytes asked and free) and the CUDA error name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}.
 */
public class CudaException extends RuntimeException {
    private final int errorCode;

    public CudaException(String message) {
        this(message, -1, null);
    }

    public CudaException(String message, int errorCode, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    /** The CUresult (driver) or cublasStatus code, -1 when the failure is not a CUDA return code. */
    public int errorCode() {
        return errorCode;
    }

    /** "CUDA_ERROR_…" for a driver result code; never throws, even when the driver library never loaded. */
    public static String errorName(int result) {
        try {
            return CUresult.stringFor(result);
        } catch (Throwable t) {
            return "CUresult " + result;
        }
    }

    /** Throws unless {@code result} is CUDA_SUCCESS; {@code what} says what was being done. */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS)
            throw new CudaException(what + " failed: " + errorName(result), result, null);
    }
}
