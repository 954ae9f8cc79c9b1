package parrot.backend.cpu.common;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link Simd.Ops} on the Vector API: the widest vectors, then scalars for the tail. */
final class VectorOps implements Simd.Ops {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final VectorSpecies<Double> D = VectorWidth.DOUBLE;
    private static final VectorSpecies<Integer> I = VectorWidth.INT;

    @Override
    public void axpy(float[] y, int yo, float a, float[] x, int xo, int n) {
        int i = 0;
        if (n >= F.length()) {
            FloatVector av = FloatVector.broadcast(F, a);
            for (int up = F.loopBound(n); i < up; i += F.length())
                FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0f;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            for (int up = F.loopBound(n); i < up; i += F.length())
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void axpy(double[] y, int yo, double a, double[] x, int xo, int n) {
        int i = 0;
        if (n >= D.length()) {
            DoubleVector av = DoubleVector.broadcast(D, a);
            for (int up = D.loopBound(n); i < up; i += D.length())
                DoubleVector.fromArray(D, x, xo + i).fma(av, DoubleVector.fromArray(D, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    @Override
    public double dot(double[] a, int ao, double[] b, int bo, int n) {
        int i = 0;
        double s = 0;
        if (n >= D.length()) {
            DoubleVector acc = DoubleVector.zero(D);
            for (int up = D.loopBound(n); i < up; i += D.length())
                acc = DoubleVector.fromArray(D, a, ao + i).fma(DoubleVector.fromArray(D, b, bo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public boolean mulAdd(float[] y, int yo, float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += F.length())
            FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i))
                    .add(FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a[ao + i] * b[bo + i];
        return true;
    }

    @Override
    public boolean gemm(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] b, int bo, int ldb,
                        int m, int k, int n) {
        int w = F.length(), nv = n - n % w;           // columns nv..n−1: fewer than a vector, done over rows
        // Cache blocking: KC steps of p, RB rows and JB columns at a time, so B's KC×JB strip stays in L1 while
        // every row block uses it and A's RB×KC block stays there while the strips pass. Each element of C still
        // sums its p in order (a block's partial sum is stored and reloaded exactly), so the bits do not change.
        // Where A runs along p (aps = 1: the forward's and the input gradient's products, hundreds of rows a call)
        // B's KC-row block is packed first, strip by strip ([strip][p][JB]): the 6-row kernel then reads it at
        // p·JB, a constant stride, so C2 drops its per-load range checks (read in place at p·ldb the inner loop kept
        // a compare and branch, and a reload of spilled offsets, for every one of its eight loads). The weight
        // gradient's calls have a dozen rows each: packing all of B for them cost more than it saved.
        if (nv > 0) {
            int strips = (nv + JB - 1) / JB;
            boolean packed = aps == 1 && m >= RB;
            float[] pb = packed ? PACKED.get(0, strips * Math.min(KC, k) * JB) : null;
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                if (packed) pack(pb, b, bo + p0 * ldb, ldb, kc, nv);
                for (int r0 = 0; r0 < m; r0 += RB) {
                    int r1 = Math.min(m, r0 + RB);
                    for (int st = 0; st < strips; st++) {
                        int j0 = st * JB, nj = Math.min(JB, nv - j0);
                        float[] bs = packed ? pb : b;
                        int bb = packed ? st * kc * JB : bo + p0 * ldb + j0, bld = packed ? JB : ldb;
                        int cb = co + j0, ab = ao + p0 * aps, r = r0;
                        for (; r + 6 <= r1; r += 6) gemmRows6(c, cb + r * ldc, ldc, a, ab + r * lda, lda, aps, bs, bb, bld, kc, nj);
                        for (; r + 4 <= r1; r += 4) gemmRows4(c, cb + r * ldc, ldc, a, ab + r * lda, lda, aps, bs, bb, bld, kc, nj);
                        for (; r < r1; r++) gemmRow(c, cb + r * ldc, a, ab + r * lda, aps, bs, bb, bld, kc, nj);
                    }
                }
            }
        }
        if (nv < n) paddedTail(c, co, ldc, a, ao, lda, aps, b, bo, ldb, m, k, nv, n);
        return true;
    }

    /** Per thread, the packed block of B (a few hundred KB at most), and the padded tail's two panels. */
    private static final Scratch PACKED = new Scratch(1), TAIL = new Scratch(2);

    /** pb[(st·kc + p)·JB + j] = b[bo + p·ldb + st·JB + j] for p &lt; kc, st·JB + j &lt; nv (a multiple of W). */
    private static void pack(float[] pb, float[] b, int bo, int ldb, int kc, int nv) {
        int w = F.length();
        for (int p = 0; p < kc; p++) {
            int src = bo + p * ldb;
            for (int j = 0; j < nv; j += w) {
                int st = j / JB;
                FloatVector.fromArray(F, b, src + j).intoArray(pb, (st * kc + p) * JB + j - st * JB);
            }
        }
    }

    /**
     * Columns nv..n−1 (fewer than a vector): B's tail columns copied into a zero-padded k × JB panel (its first W
     * columns used, the kernels' packed layout) and C's into an m × W one, then the same register-blocked kernels
     * as the body, one vector of columns wide; the padding columns compute sums of zeros and are dropped. Each kept
     * element is still summed over p in order by fused multiply-adds, so the bits are those of the scalar
     * definition, and A is read where it lies.
     */
    private static void paddedTail(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] b, int bo,
                                   int ldb, int m, int k, int nv, int n) {
        int w = F.length(), nt = n - nv;
        float[] bt = TAIL.get(0, k * JB), ct = TAIL.get(1, m * w);   // padding lanes: garbage, dropped
        for (int p = 0; p < k; p++)                     // plain loops: fewer than W floats a row, where a
            for (int j = 0; j < nt; j++) bt[p * JB + j] = b[bo + p * ldb + nv + j];   // System.arraycopy call costs more
        for (int r = 0; r < m; r++)
            for (int j = 0; j < nt; j++) ct[r * w + j] = c[co + r * ldc + nv + j];
        for (int r0 = 0; r0 < m; r0 += RB) {
            int r1 = Math.min(m, r0 + RB);
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0), r = r0, ab = ao + p0 * aps, bb = p0 * JB;
                for (; r + 6 <= r1; r += 6) gemmRows6(ct, r * w, w, a, ab + r * lda, lda, aps, bt, bb, JB, kc, w);
                for (; r + 4 <= r1; r += 4) gemmRows4(ct, r * w, w, a, ab + r * lda, lda, aps, bt, bb, JB, kc, w);
                for (; r < r1; r++) gemmRow(ct, r * w, a, ab + r * lda, aps, bt, bb, JB, kc, w);
            }
        }
        for (int r = 0; r < m; r++)
            for (int j = 0; j < nt; j++) c[co + r * ldc + nv + j] = ct[r * w + j];
    }

    // Measured single-threaded on the quickstart's shapes (README "CPU speed"): the 6-row tile and these blocks
    // took the weight-gradient products (k = batch·tokens = 2048) from ~22–30 to ~45–55 GFLOP/s on one core.
    private static final int KC = 128, RB = 48;
    private static final int JB = 2 * F.length();

    /**
     * Six rows of C, n = JB or W columns (one packed strip of B at pb[pbo + p·JB ..]). The 2-vector tile (12
     * accumulators) has a loop for each way A is laid out, so that its six scalars a p are addresses C2 can check
     * once: along p (aps = 1: the forward's and the input gradient's A, rows of the input or of dout), along the
     * rows (lda = 1: the weight gradient's doutᵀ, six neighbours of one row of dout), or neither. Without the
     * lda = 1 loop the nine linear backwards of the quickstart's transformer took 6.8–7.4 ms against 6.3–6.4.
     */
    private static void gemmRows6(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] pb, int pbo,
                                  int ldb, int k, int n) {
        int w = F.length();
        int c0 = co, c1 = co + ldc, c2 = co + 2 * ldc, c3 = co + 3 * ldc, c4 = co + 4 * ldc, c5 = co + 5 * ldc;
        if (n < JB) {
            gemmRows6One(c, co, ldc, a, ao, lda, aps, pb, pbo, ldb, k);
            return;
        }
        FloatVector x0 = FloatVector.fromArray(F, c, c0), y0 = FloatVector.fromArray(F, c, c0 + w);
        FloatVector x1 = FloatVector.fromArray(F, c, c1), y1 = FloatVector.fromArray(F, c, c1 + w);
        FloatVector x2 = FloatVector.fromArray(F, c, c2), y2 = FloatVector.fromArray(F, c, c2 + w);
        FloatVector x3 = FloatVector.fromArray(F, c, c3), y3 = FloatVector.fromArray(F, c, c3 + w);
        FloatVector x4 = FloatVector.fromArray(F, c, c4), y4 = FloatVector.fromArray(F, c, c4 + w);
        FloatVector x5 = FloatVector.fromArray(F, c, c5), y5 = FloatVector.fromArray(F, c, c5 + w);
        if (aps == 1 && ldb == JB) {
            int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda, a4 = ao + 4 * lda, a5 = ao + 5 * lda;
            for (int p = 0; p < k; p++) {
                int bp = pbo + p * JB;
                FloatVector bx = FloatVector.fromArray(F, pb, bp), by = FloatVector.fromArray(F, pb, bp + w);
                FloatVector v = FloatVector.broadcast(F, a[a0 + p]);
                x0 = bx.fma(v, x0);
                y0 = by.fma(v, y0);
                v = FloatVector.broadcast(F, a[a1 + p]);
                x1 = bx.fma(v, x1);
                y1 = by.fma(v, y1);
                v = FloatVector.broadcast(F, a[a2 + p]);
                x2 = bx.fma(v, x2);
                y2 = by.fma(v, y2);
                v = FloatVector.broadcast(F, a[a3 + p]);
                x3 = bx.fma(v, x3);
                y3 = by.fma(v, y3);
                v = FloatVector.broadcast(F, a[a4 + p]);
                x4 = bx.fma(v, x4);
                y4 = by.fma(v, y4);
                v = FloatVector.broadcast(F, a[a5 + p]);
                x5 = bx.fma(v, x5);
                y5 = by.fma(v, y5);
            }
        } else if (lda == 1) {
            for (int p = 0, x = ao, bp = pbo; p < k; p++, x += aps, bp += ldb) {
                FloatVector bx = FloatVector.fromArray(F, pb, bp), by = FloatVector.fromArray(F, pb, bp + w);
                FloatVector v = FloatVector.broadcast(F, a[x]);
                x0 = bx.fma(v, x0);
                y0 = by.fma(v, y0);
                v = FloatVector.broadcast(F, a[x + 1]);
                x1 = bx.fma(v, x1);
                y1 = by.fma(v, y1);
                v = FloatVector.broadcast(F, a[x + 2]);
                x2 = bx.fma(v, x2);
                y2 = by.fma(v, y2);
                v = FloatVector.broadcast(F, a[x + 3]);
                x3 = bx.fma(v, x3);
                y3 = by.fma(v, y3);
                v = FloatVector.broadcast(F, a[x + 4]);
                x4 = bx.fma(v, x4);
                y4 = by.fma(v, y4);
                v = FloatVector.broadcast(F, a[x + 5]);
                x5 = bx.fma(v, x5);
                y5 = by.fma(v, y5);
            }
        } else {
            int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda, a4 = ao + 4 * lda, a5 = ao + 5 * lda;
            for (int p = 0, ap = 0, bp = pbo; p < k; p++, ap += aps, bp += ldb) {
                FloatVector bx = FloatVector.fromArray(F, pb, bp), by = FloatVector.fromArray(F, pb, bp + w);
                FloatVector v = FloatVector.broadcast(F, a[a0 + ap]);
                x0 = bx.fma(v, x0);
                y0 = by.fma(v, y0);
                v = FloatVector.broadcast(F, a[a1 + ap]);
                x1 = bx.fma(v, x1);
                y1 = by.fma(v, y1);
                v = FloatVector.broadcast(F, a[a2 + ap]);
                x2 = bx.fma(v, x2);
                y2 = by.fma(v, y2);
                v = FloatVector.broadcast(F, a[a3 + ap]);
                x3 = bx.fma(v, x3);
                y3 = by.fma(v, y3);
                v = FloatVector.broadcast(F, a[a4 + ap]);
                x4 = bx.fma(v, x4);
                y4 = by.fma(v, y4);
                v = FloatVector.broadcast(F, a[a5 + ap]);
                x5 = bx.fma(v, x5);
                y5 = by.fma(v, y5);
            }
        }
        x0.intoArray(c, c0);
        y0.intoArray(c, c0 + w);
        x1.intoArray(c, c1);
        y1.intoArray(c, c1 + w);
        x2.intoArray(c, c2);
        y2.intoArray(c, c2 + w);
        x3.intoArray(c, c3);
        y3.intoArray(c, c3 + w);
        x4.intoArray(c, c4);
        y4.intoArray(c, c4 + w);
        x5.intoArray(c, c5);
        y5.intoArray(c, c5 + w);
    }

    /** Six rows of C, one vector of columns: six independent chains (4 + 1 + 1 rows left two single chains). */
    private static void gemmRows6One(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] pb,
                                     int pbo, int ldb, int k) {
        int c0 = co, c1 = co + ldc, c2 = co + 2 * ldc, c3 = co + 3 * ldc, c4 = co + 4 * ldc, c5 = co + 5 * ldc;
        int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda, a4 = ao + 4 * lda, a5 = ao + 5 * lda;
        FloatVector x0 = FloatVector.fromArray(F, c, c0), x1 = FloatVector.fromArray(F, c, c1);
        FloatVector x2 = FloatVector.fromArray(F, c, c2), x3 = FloatVector.fromArray(F, c, c3);
        FloatVector x4 = FloatVector.fromArray(F, c, c4), x5 = FloatVector.fromArray(F, c, c5);
        if (aps == 1 && ldb == JB)                     // the padded tail's panel: as gemmRows6's first loop
            for (int p = 0; p < k; p++) {
                FloatVector bx = FloatVector.fromArray(F, pb, pbo + p * JB);
                x0 = bx.fma(FloatVector.broadcast(F, a[a0 + p]), x0);
                x1 = bx.fma(FloatVector.broadcast(F, a[a1 + p]), x1);
                x2 = bx.fma(FloatVector.broadcast(F, a[a2 + p]), x2);
                x3 = bx.fma(FloatVector.broadcast(F, a[a3 + p]), x3);
                x4 = bx.fma(FloatVector.broadcast(F, a[a4 + p]), x4);
                x5 = bx.fma(FloatVector.broadcast(F, a[a5 + p]), x5);
            }
        else for (int p = 0, ap = 0, bp = pbo; p < k; p++, ap += aps, bp += ldb) {
            FloatVector bx = FloatVector.fromArray(F, pb, bp);
            x0 = bx.fma(FloatVector.broadcast(F, a[a0 + ap]), x0);
            x1 = bx.fma(FloatVector.broadcast(F, a[a1 + ap]), x1);
            x2 = bx.fma(FloatVector.broadcast(F, a[a2 + ap]), x2);
            x3 = bx.fma(FloatVector.broadcast(F, a[a3 + ap]), x3);
            x4 = bx.fma(FloatVector.broadcast(F, a[a4 + ap]), x4);
            x5 = bx.fma(FloatVector.broadcast(F, a[a5 + ap]), x5);
        }
        x0.intoArray(c, c0);
        x1.intoArray(c, c1);
        x2.intoArray(c, c2);
        x3.intoArray(c, c3);
        x4.intoArray(c, c4);
        x5.intoArray(c, c5);
    }

    /** Four rows of C, n = JB or W columns of a packed strip: 8 accumulators, or 4. */
    private static void gemmRows4(float[] c, int co, int ldc, float[] a, int ao, int lda, int aps, float[] pb, int pbo,
                                  int ldb, int k, int n) {
        int w = F.length();
        int c0 = co, c1 = co + ldc, c2 = co + 2 * ldc, c3 = co + 3 * ldc;
        int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda;
        if (n == JB) {
            FloatVector x0 = FloatVector.fromArray(F, c, c0), y0 = FloatVector.fromArray(F, c, c0 + w);
            FloatVector x1 = FloatVector.fromArray(F, c, c1), y1 = FloatVector.fromArray(F, c, c1 + w);
            FloatVector x2 = FloatVector.fromArray(F, c, c2), y2 = FloatVector.fromArray(F, c, c2 + w);
            FloatVector x3 = FloatVector.fromArray(F, c, c3), y3 = FloatVector.fromArray(F, c, c3 + w);
            for (int p = 0, ap = 0, bp = pbo; p < k; p++, ap += aps, bp += ldb) {
                FloatVector bx = FloatVector.fromArray(F, pb, bp), by = FloatVector.fromArray(F, pb, bp + w);
                FloatVector v = FloatVector.broadcast(F, a[a0 + ap]);
                x0 = bx.fma(v, x0);
                y0 = by.fma(v, y0);
                v = FloatVector.broadcast(F, a[a1 + ap]);
                x1 = bx.fma(v, x1);
                y1 = by.fma(v, y1);
                v = FloatVector.broadcast(F, a[a2 + ap]);
                x2 = bx.fma(v, x2);
                y2 = by.fma(v, y2);
                v = FloatVector.broadcast(F, a[a3 + ap]);
                x3 = bx.fma(v, x3);
                y3 = by.fma(v, y3);
            }
            x0.intoArray(c, c0);
            y0.intoArray(c, c0 + w);
            x1.intoArray(c, c1);
            y1.intoArray(c, c1 + w);
            x2.intoArray(c, c2);
            y2.intoArray(c, c2 + w);
            x3.intoArray(c, c3);
            y3.intoArray(c, c3 + w);
            return;
        }
        FloatVector x0 = FloatVector.fromArray(F, c, c0), x1 = FloatVector.fromArray(F, c, c1);
        FloatVector x2 = FloatVector.fromArray(F, c, c2), x3 = FloatVector.fromArray(F, c, c3);
        for (int p = 0, ap = 0, bp = pbo; p < k; p++, ap += aps, bp += ldb) {
            FloatVector bx = FloatVector.fromArray(F, pb, bp);
            x0 = bx.fma(FloatVector.broadcast(F, a[a0 + ap]), x0);
            x1 = bx.fma(FloatVector.broadcast(F, a[a1 + ap]), x1);
            x2 = bx.fma(FloatVector.broadcast(F, a[a2 + ap]), x2);
            x3 = bx.fma(FloatVector.broadcast(F, a[a3 + ap]), x3);
        }
        x0.intoArray(c, c0);
        x1.intoArray(c, c1);
        x2.intoArray(c, c2);
        x3.intoArray(c, c3);
    }

    /** One row of C, n = JB or W columns of a packed strip: two independent FMA chains, or one. */
    private static void gemmRow(float[] c, int co, float[] a, int ao, int aps, float[] pb, int pbo, int ldb, int k,
                                int n) {
        int w = F.length();
        if (n == JB) {
            FloatVector x = FloatVector.fromArray(F, c, co), y = FloatVector.fromArray(F, c, co + w);
            for (int p = 0, bp = pbo; p < k; p++, bp += ldb) {
                FloatVector v = FloatVector.broadcast(F, a[ao + p * aps]);
                x = FloatVector.fromArray(F, pb, bp).fma(v, x);
                y = FloatVector.fromArray(F, pb, bp + w).fma(v, y);
            }
            x.intoArray(c, co);
            y.intoArray(c, co + w);
            return;
        }
        FloatVector x = FloatVector.fromArray(F, c, co);
        for (int p = 0, bp = pbo; p < k; p++, bp += ldb)
            x = FloatVector.fromArray(F, pb, bp).fma(FloatVector.broadcast(F, a[ao + p * aps]), x);
        x.intoArray(c, co);
    }

    /*
     * exp on vectors from IEEE adds, multiplies and fused multiply-adds only (Cephes expf: x = n·ln2 + r, a
     * degree-6 polynomial in r, times 2^n by exponent bits), ~2 ulp. VectorOperators.EXP is not used because it
     * is not reproducible: interpreted and C1 code compute it lane by lane with Math.exp, C2 with SVML, so a run's
     * numbers would depend on when the JIT compiled the loop. These operations give the same bits in every tier.
     */
    private static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365478515625f;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUNDER = 12582912f;   // 1.5·2^23: adding it rounds to an integer in the low bits
    private static final float[] EXP_P = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
            1.6666665459e-1f, 5.0000001201e-1f};

    static FloatVector expV(FloatVector x) {
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, EXP_P[0]);
        for (int i = 1; i < EXP_P.length; i++) p = p.fma(r, FloatVector.broadcast(F, EXP_P[i]));
        FloatVector e = p.mul(r).fma(r, r).add(1f);                       // 1 + r + r²·p(r)
        IntVector bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER)).add(127).lanewise(VectorOperators.LSHL, 23);
        return e.mul(bits.reinterpretAsFloats());
    }

    /** {@link #expV} on one float, the same operations in the same order. */
    static float expS(float x) {
        x = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(x, LOG2E, ROUNDER);
        float n = t - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = EXP_P[0];
        for (int i = 1; i < EXP_P.length; i++) p = Math.fma(p, r, EXP_P[i]);
        float e = Math.fma(p * r, r, r) + 1f;
        int bits = ((Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUNDER)) + 127) << 23;
        return e * Float.intBitsToFloat(bits);
    }

    @Override
    public boolean geluForward(float[] out, int oo, float[] in, int io, int n) {
        GeluVectorOps.forward(out, oo, in, io, n);
        return true;
    }

    @Override
    public boolean geluBackward(float[] din, int dio, float[] dout, int doo, float[] in, int io, int n) {
        GeluVectorOps.backward(din, dio, dout, doo, in, io, n);
        return true;
    }

    // Math.exp for doubles: the float64 twin serves gradient checks, where exactness beats speed.
    @Override
    public void exp(float[] a, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += F.length())
            expV(FloatVector.fromArray(F, a, off + i)).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] = expS(a[off + i]);
    }

    @Override
    public void exp(double[] a, int off, int n) {
        for (int i = off; i < off + n; i++) a[i] = Math.exp(a[i]);
    }
}
