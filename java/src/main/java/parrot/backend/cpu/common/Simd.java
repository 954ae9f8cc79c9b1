package parrot.backend.cpu.common;

/**
 * The vector loops the CPU backend's hot paths are made of (for the GEMM, the scan and conv1d only their vector
 * forms: the plain loops that define them stay in the backend's files). HotSpot 17 does not auto-vectorize a loop
 * whose two arrays are indexed at different offsets (it cannot rule out that they alias), which is every
 * row-of-a-matrix loop; the Vector API does, 5–10× faster. It is an incubator module in Java 17, so it is used
 * only when the JVM was started with {@code --add-modules jdk.incubator.vector} (the Makefile, launcher and
 * tests do that); otherwise the plain loops run and a warning says so once.
 */
public final class Simd {
    /** The operations; one implementation is loaded, so calls through it inline. */
    interface Ops {
        void axpy(float[] y, int yo, float a, float[] x, int xo, int n);

        float dot(float[] a, int ao, float[] b, int bo, int n);

        void axpy(double[] y, int yo, double a, double[] x, int xo, int n);

        double dot(double[] a, int ao, double[] b, int bo, int n);

        void exp(float[] a, int off, int n);

        void exp(double[] a, int off, int n);

        // The boolean ones return false where they are not available: the caller's plain loop runs.
        boolean gemm(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] b, int bo, int ldb, int m,
                     int k, int n);

        boolean mulAdd(float[] y, int yo, float[] a, int ao, float[] b, int bo, int n);

        boolean geluForward(float[] out, int oo, float[] in, int io, int n);

        boolean geluBackward(float[] din, int dio, float[] dout, int doo, float[] in, int io, int n);
    }

    private static final Ops OPS = choose();

    private Simd() {
    }

    private static Ops choose() {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                && !Boolean.getBoolean("parrot.noSimd");
        if (vector) {
            try {
                return (Ops) Class.forName("parrot.backend.cpu.common.VectorOps").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                // The innermost cause: a bad -Dparrot.vectorBits says so there, not in its ExceptionInInitializerError.
                Throwable why = e;
                while (why.getCause() != null) why = why.getCause();
                org.slf4j.LoggerFactory.getLogger(Simd.class).warn("vector kernels unavailable ({}): using plain loops",
                        why.getMessage() != null ? why.getMessage() : why.toString());
            }
        } else if (!Boolean.getBoolean("parrot.noSimd")) {
            org.slf4j.LoggerFactory.getLogger(Simd.class).warn(
                    "jdk.incubator.vector not enabled: CPU kernels run without SIMD (start java with --add-modules jdk.incubator.vector)");
        }
        return new ScalarOps();
    }

    public static boolean vectorized() {
        return !(OPS instanceof ScalarOps);
    }

    /** y[yo..yo+n) += a·x[xo..xo+n) */
    public static void axpy(float[] y, int yo, float a, float[] x, int xo, int n) {
        OPS.axpy(y, yo, a, x, xo, n);
    }

    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return OPS.dot(a, ao, b, bo, n);
    }

    public static void axpy(double[] y, int yo, double a, double[] x, int xo, int n) {
        OPS.axpy(y, yo, a, x, xo, n);
    }

    public static double dot(double[] a, int ao, double[] b, int bo, int n) {
        return OPS.dot(a, ao, b, bo, n);
    }

    /** a[off..off+n) = exp(a[off..off+n)), in place. */
    public static void exp(float[] a, int off, int n) {
        OPS.exp(a, off, n);
    }

    public static void exp(double[] a, int off, int n) {
        OPS.exp(a, off, n);
    }

    /**
     * out[oo..oo+n) = GELU(in[io..io+n)), exact (erf) form, from a vector erf (Juffa's float polynomials with the
     * polynomial exp): the same bits in the vector body, the scalar tail and every JIT tier, within a few ulp of
     * the plain loop it replaces (Gelu.forward). Returns false, doing nothing, without the vector module.
     */
    public static boolean geluForward(float[] out, int oo, float[] in, int io, int n) {
        return OPS.geluForward(out, oo, in, io, n);
    }

    /** The float64 CPU backend keeps the plain loop (Erf.erf(double)). */
    public static boolean geluForward(double[] out, int oo, double[] in, int io, int n) {
        return false;
    }

    /** din += dout·GELU'(in) over n elements, as {@link #geluForward}; false without the vector module. */
    public static boolean geluBackward(float[] din, int dio, float[] dout, int doo, float[] in, int io, int n) {
        return OPS.geluBackward(din, dio, dout, doo, in, io, n);
    }

    public static boolean geluBackward(double[] din, int dio, double[] dout, int doo, double[] in, int io, int n) {
        return false;
    }

    /**
     * y[yo..yo+n) += a[ao..ao+n)·b[bo..bo+n), elementwise, a multiply then an add (no fused multiply-add), so
     * the result is bitwise the plain loop's wherever the split between vector body and tail falls. Returns
     * false, doing nothing, without the vector module.
     */
    public static boolean mulAdd(float[] y, int yo, float[] a, int ao, float[] b, int bo, int n) {
        return OPS.mulAdd(y, yo, a, ao, b, bo, n);
    }

    /** The float64 CPU backend keeps the plain loop. */
    public static boolean mulAdd(double[] y, int yo, double[] a, int ao, double[] b, int bo, int n) {
        return false;
    }

    /**
     * C += A·B for row-major blocks: c[co + r·ldc + j] += Σ_p a[ao + r·lda + p·aps]·b[bo + p·ldb + j] for r < m,
     * j < n, p < k (A read with any strides, so Aᵀ needs no copy), each element summed over p in order (fused
     * multiply-adds), so the result does not depend on how rows are split between threads. Cache-blocked, register-blocked (6 rows × 2 vectors): a row-at-a-time axpy reloads
     * and stores the output row for every p. Returns false, doing nothing, without the vector module.
     */
    public static boolean gemm(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] b, int bo,
                               int ldb, int m, int k, int n) {
        return OPS.gemm(c, co, ldc, a, ao, lda, aps, b, bo, ldb, m, k, n);
    }

    /** The float64 CPU backend (gradient checks) keeps its plain loops. */
    public static boolean gemm(double[] c, int co, int ldc, double[] a, int ao, int lda, int aps, double[] b, int bo,
                               int ldb, int m, int k, int n) {
        return false;
    }

    static final class ScalarOps implements Ops {
        @Override
        public boolean geluForward(float[] out, int oo, float[] in, int io, int n) {
            return false;
        }

        @Override
        public boolean geluBackward(float[] din, int dio, float[] dout, int doo, float[] in, int io, int n) {
            return false;
        }

        @Override
        public boolean mulAdd(float[] y, int yo, float[] a, int ao, float[] b, int bo, int n) {
            return false;
        }

        @Override
        public boolean gemm(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] b, int bo,
                            int ldb, int m, int k, int n) {
            return false;
        }

        @Override
        public void exp(float[] a, int off, int n) {
            for (int i = off; i < off + n; i++) a[i] = (float) Math.exp(a[i]);
        }

        @Override
        public void exp(double[] a, int off, int n) {
            for (int i = off; i < off + n; i++) a[i] = Math.exp(a[i]);
        }

        @Override
        public void axpy(float[] y, int yo, float a, float[] x, int xo, int n) {
            for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
        }

        @Override
        public float dot(float[] a, int ao, float[] b, int bo, int n) {
            float s = 0f;
            for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
            return s;
        }

        @Override
        public void axpy(double[] y, int yo, double a, double[] x, int xo, int n) {
            for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
        }

        @Override
        public double dot(double[] a, int ao, double[] b, int bo, int n) {
            double s = 0;
            for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
            return s;
        }
    }
}
