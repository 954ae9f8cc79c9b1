package parrot.backend.cpu.common;

/**
 * The few vector loops the CPU backend's hot paths are made of. HotSpot 17 does not auto-vectorize a loop
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

        void scanAdvance(float[] at, float[] dl, float[] e, int eb, float[] hIn, int hib, float[] hOut, int hob,
                         float[] dub, float[] bm, float[] cm, int rb, float[] y, int nd, int n);

        void scanAdvance(double[] at, double[] dl, double[] e, int eb, double[] hIn, int hib, double[] hOut, int hob,
                         double[] dub, double[] bm, double[] cm, int rb, double[] y, int nd, int n);

        void scanAdjoint(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls, int jd,
                         float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta, float[] duAcc,
                         float[] dA, float[] pB, float[] pC, int pb, int nd, int n);

        void scanAdjoint(double[] hs, int cur, int prev, double[] es, double[] dh, double[] at, double[] dls, int jd,
                         double[] g, double[] uu, double[] bm, double[] cm, int rb, double[] dDelta, double[] duAcc,
                         double[] dA, double[] pB, double[] pC, int pb, int nd, int n);
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
                org.slf4j.LoggerFactory.getLogger(Simd.class).warn("vector kernels unavailable ({}): using plain loops", e.toString());
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
     * One step of Mamba's selective scan for a block of nd channels and n states, states laid out [N][nd] (the
     * scan's inner loop; see parrot.backend.cpu.Scan): e = exp(δ·A) (kept for the backward), hOut = e·hIn + δu·B,
     * y = Σ_s C·hOut. at is A transposed to [N][nd], dl holds δ and dub δ·u per channel; hIn may be hOut.
     */
    public static void scanAdvance(float[] at, float[] dl, float[] e, int eb, float[] hIn, int hib, float[] hOut,
                                   int hob, float[] dub, float[] bm, float[] cm, int rb, float[] y, int nd, int n) {
        OPS.scanAdvance(at, dl, e, eb, hIn, hib, hOut, hob, dub, bm, cm, rb, y, nd, n);
    }

    public static void scanAdvance(double[] at, double[] dl, double[] e, int eb, double[] hIn, int hib,
                                   double[] hOut, int hob, double[] dub, double[] bm, double[] cm, int rb,
                                   double[] y, int nd, int n) {
        OPS.scanAdvance(at, dl, e, eb, hIn, hib, hOut, hob, dub, bm, cm, rb, y, nd, n);
    }

    /**
     * The adjoint of one scan step for a block of nd channels, over all n states. With g = ∂L/∂y, the state
     * gradient dh (from later steps, [N][nd]) becomes dhn = dh + g·C and is carried back as dhn·e; per channel it
     * adds to dDelta (∂L/∂δ before softplus), duAcc (∂L/∂u) and dA ([N][nd], may be null); per state it adds
     * Σ_channels g·h to pC[pb+s] and Σ_channels dhn·δ·u to pB[pb+s] (either may be null). hs holds the state
     * after this step at cur and before it at prev; es the step's exp(δ·A) at prev; dls its δ at jd.
     */
    public static void scanAdjoint(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls,
                                   int jd, float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta,
                                   float[] duAcc, float[] dA, float[] pB, float[] pC, int pb, int nd, int n) {
        OPS.scanAdjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb, nd, n);
    }

    public static void scanAdjoint(double[] hs, int cur, int prev, double[] es, double[] dh, double[] at,
                                   double[] dls, int jd, double[] g, double[] uu, double[] bm, double[] cm, int rb,
                                   double[] dDelta, double[] duAcc, double[] dA, double[] pB, double[] pC, int pb,
                                   int nd, int n) {
        OPS.scanAdjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb, nd, n);
    }

    static final class ScalarOps implements Ops {
        @Override
        public void scanAdvance(float[] at, float[] dl, float[] e, int eb, float[] hIn, int hib, float[] hOut,
                                int hob, float[] dub, float[] bm, float[] cm, int rb, float[] y, int nd, int n) {
            java.util.Arrays.fill(y, 0, nd, 0f);
            for (int s = 0; s < n; s++) {
                float bs = bm[rb + s], cs = cm[rb + s];
                int sb = s * nd;
                for (int dd = 0; dd < nd; dd++) {
                    float ex = (float) Math.exp(dl[dd] * at[sb + dd]);
                    e[eb + sb + dd] = ex;
                    float v = ex * hIn[hib + sb + dd] + dub[dd] * bs;
                    hOut[hob + sb + dd] = v;
                    y[dd] += cs * v;
                }
            }
        }

        @Override
        public void scanAdvance(double[] at, double[] dl, double[] e, int eb, double[] hIn, int hib, double[] hOut,
                                int hob, double[] dub, double[] bm, double[] cm, int rb, double[] y, int nd, int n) {
            java.util.Arrays.fill(y, 0, nd, 0);
            for (int s = 0; s < n; s++) {
                double bs = bm[rb + s], cs = cm[rb + s];
                int sb = s * nd;
                for (int dd = 0; dd < nd; dd++) {
                    double ex = Math.exp(dl[dd] * at[sb + dd]);
                    e[eb + sb + dd] = ex;
                    double v = ex * hIn[hib + sb + dd] + dub[dd] * bs;
                    hOut[hob + sb + dd] = v;
                    y[dd] += cs * v;
                }
            }
        }

        @Override
        public void scanAdjoint(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls,
                                int jd, float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta,
                                float[] duAcc, float[] dA, float[] pB, float[] pC, int pb, int nd, int n) {
            for (int s = 0; s < n; s++) {
                float bs = bm[rb + s], cs = cm[rb + s], accB = 0f, accC = 0f;
                int sb = s * nd;
                for (int dd = 0; dd < nd; dd++) {
                    float ht = hs[cur + sb + dd], hp = hs[prev + sb + dd], ex = es[prev + sb + dd], dlv = dls[jd + dd];
                    accC += g[dd] * ht;
                    float dhn = dh[sb + dd] + g[dd] * cs;
                    float ddA = dhn * hp * ex;           // ∂L/∂(δ·A) through exp
                    dDelta[dd] += ddA * at[sb + dd] + dhn * bs * uu[dd];
                    if (dA != null) dA[sb + dd] += ddA * dlv;
                    float t = dhn * dlv;
                    accB += t * uu[dd];
                    duAcc[dd] += t * bs;
                    dh[sb + dd] = dhn * ex;
                }
                if (pC != null) pC[pb + s] += accC;
                if (pB != null) pB[pb + s] += accB;
            }
        }

        @Override
        public void scanAdjoint(double[] hs, int cur, int prev, double[] es, double[] dh, double[] at, double[] dls,
                                int jd, double[] g, double[] uu, double[] bm, double[] cm, int rb, double[] dDelta,
                                double[] duAcc, double[] dA, double[] pB, double[] pC, int pb, int nd, int n) {
            for (int s = 0; s < n; s++) {
                double bs = bm[rb + s], cs = cm[rb + s], accB = 0, accC = 0;
                int sb = s * nd;
                for (int dd = 0; dd < nd; dd++) {
                    double ht = hs[cur + sb + dd], hp = hs[prev + sb + dd], ex = es[prev + sb + dd], dlv = dls[jd + dd];
                    accC += g[dd] * ht;
                    double dhn = dh[sb + dd] + g[dd] * cs;
                    double ddA = dhn * hp * ex;
                    dDelta[dd] += ddA * at[sb + dd] + dhn * bs * uu[dd];
                    if (dA != null) dA[sb + dd] += ddA * dlv;
                    double t = dhn * dlv;
                    accB += t * uu[dd];
                    duAcc[dd] += t * bs;
                    dh[sb + dd] = dhn * ex;
                }
                if (pC != null) pC[pb + s] += accC;
                if (pB != null) pB[pb + s] += accB;
            }
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
