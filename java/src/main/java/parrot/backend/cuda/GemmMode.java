package parrot.backend.cuda;

import java.util.Locale;

/** Which GEMM {@link CudaBackend} uses: cuBLAS when it loads (AUTO), or forced. */
public enum GemmMode {
    /** cuBLAS if libcublas loads and initializes, else the built-in tiled kernel (logged). */
    AUTO,
    /** cuBLAS or fail. */
    CUBLAS,
    /** linear.cu's tiled kernel even where cuBLAS is available. */
    BUILTIN;

    /** auto | cublas | builtin (case-insensitive). */
    public static GemmMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("GEMM mode must be auto, cublas or builtin, got '" + s + "'");
        }
    }

    /** From the PARROT_GEMM environment variable or -Dparrot.gemm, AUTO when neither is set. */
    public static GemmMode fromEnvironment() {
        String s = System.getProperty("parrot.gemm", System.getenv("PARROT_GEMM"));
        return s == null || s.isBlank() ? AUTO : parse(s);
    }
}
