package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import parrot.backend.AttentionSpec;

/**
 * {@link AttentionSimd} for narrow heads (head_dim not a multiple of the vector width W: the quickstart's 8-wide
 * heads with AVX-512's 16 floats), with W queries on the lanes of a vector instead of head dims: a head's dims
 * are a loop, so none of a vector's lanes is padding, and a row's softmax (max, exp, sum) is lane by lane, with no
 * reduction across lanes. Layouts as Attention's: qkv [B·T, H·3·hd] (per head q|k|v), out [B·T, H·hd],
 * lse [B, H, T].
 *
 * <p>Forward, per block of W queries (lanes), over the keys any of them sees, in increasing order: scores
 * S[j] = Σ_d Qᵀ[d]·k_j[d] (Qᵀ the block's queries as hd vectors, k_j[d] broadcast), scaled, biased, masked to −∞
 * where a lane may not see key j; then P[j] = exp(S[j] − max), l = Σ_j P[j], Oᵀ[d] = Σ_j v_j[d]·P[j].
 * Backward: the same block of queries gives dS and dQ (dQᵀ[d] = Σ_j k_j[d]·dS[j]); then W keys on the lanes,
 * over the queries that see any of them, recompute P and dS (the same operations on the same operands: the same
 * bits) and give dVᵀ[d] = Σ_i dO_i[d]·P[i] and dKᵀ[d] = Σ_i q_i[d]·dS[i]. Two passes because a product summed
 * over the lane axis would need a cross-lane reduction per key and dim.
 *
 * <p>Bits: every lane is one query (or key) on its own, and a key (query) a lane may not see adds an exact zero
 * (P = exp(−∞) = 0, dS = 0·x = 0, fma(x, 0, acc) = acc); so each result is the sum over its own visible keys
 * (queries) in increasing order, whatever W is and whichever lanes share a vector: AVX2 and AVX-512 hosts give the
 * same bits. Run to run, JIT tier and thread count do not change them (IEEE operations and the polynomial exp
 * only). They differ from the plain loops' (which define the op, and which the float64 twin runs) by rounding.
 *
 * <p>Heads with a narrow Hard-ALiBi window (w ≤ W/2) take {@link AttentionDiagonals} instead, which walks a block's
 * w diagonals rather than its W + w − 1 keys and keeps P and dS for the key pass; the bits are the same.
 *
 * <p>No method here takes or returns a vector (C2 boxes vectors passed to a helper it compiles on its own); the
 * polynomial exp is written out, as in {@link AttentionVectorOps}. Every score is biased and masked, with no
 * branch: a vector reassigned under an {@code if} (slope ≠ 0, a block that needs the mask) merges two values, which
 * C2 (JDK 17, 512-bit vectors) could not unbox in the backward; every Vector API call there then ran its Java
 * fallback (3.5 GB/s of garbage, 13 µs a head where 9 now). For a visible key q − k ≥ 0, so slope·(q − k) is +0 at
 * slope 0 and x − 0 = x: the same bits as skipping it.
 */
final class AttentionQueryLanes {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final VectorSpecies<Integer> I = VectorWidth.INT;
    static final int W = F.length();
    private static final float[] IOTA = AttentionVectorOps.IOTA;

    // The polynomial exp of VectorOps.expV / AttentionVectorOps, its constants and operations (the same bits).
    private static final float EXP_HI = AttentionVectorOps.EXP_HI, EXP_LO = AttentionVectorOps.EXP_LO;
    private static final float LOG2E = AttentionVectorOps.LOG2E, LN2_HI = AttentionVectorOps.LN2_HI,
            LN2_LO = AttentionVectorOps.LN2_LO, ROUNDER = AttentionVectorOps.ROUNDER;
    private static final int ROUNDER_BITS = AttentionVectorOps.ROUNDER_BITS;
    private static final float P0 = AttentionVectorOps.P0, P1 = AttentionVectorOps.P1, P2 = AttentionVectorOps.P2,
            P3 = AttentionVectorOps.P3, P4 = AttentionVectorOps.P4, P5 = AttentionVectorOps.P5;

    private AttentionQueryLanes() {
    }

    /** T rounded up to whole vectors. */
    private static int padded(int seqLen) {
        return (seqLen + W - 1) / W * W;
    }

    /**
     * The row length of a transposed head: W zeros, T positions, zeros up to tp, W more zeros (the diagonals read
     * keys down to i0 − (W − 1) and queries up to T − 1 + W − 1).
     */
    private static int rowLength(int seqLen) {
        return W + padded(seqLen) + W;
    }

    /** 0, ld, 2·ld, …: the offsets of W consecutive rows of stride ld, for gathers and scatters. */
    private static int[] rows(int ld) {
        int[] r = new int[W];
        for (int i = 0; i < W; i++) r[i] = i * ld;
        return r;
    }

    /**
     * dst[dOff + d·ldt + t] = src[off + t·ld + d] for t &lt; T, d &lt; hd: one head's q, k, v or dO transposed, W rows
     * a gather (rows = {@link #rows}(ld)) per dim, the last partial block a scalar loop. Gathers took a 64 × 8 head
     * from 0.34 to 0.14 µs (AVX-512): the scalar loop spent most of a head's backward moving its four operands.
     */
    private static void transpose(float[] dst, int dOff, int ldt, float[] src, int off, int ld, int seqLen, int hd,
                                  int[] rows) {
        int t0 = 0;
        for (; t0 + W <= seqLen; t0 += W)
            for (int d = 0, o = dOff + t0, s = off + t0 * ld; d < hd; d++, o += ldt, s++)
                FloatVector.fromArray(F, src, s, rows, 0).intoArray(dst, o);
        for (int d = 0; d < hd; d++) {
            int o = dOff + d * ldt, s = off + d;
            for (int t = t0; t < seqLen; t++) dst[o + t] = src[s + t * ld];
        }
    }

    /**
     * a[off + c·W ..] for c in [0, n) = exp(a − shift[..W]) lane by lane; below the exp's range (masked: −∞) exactly 0.
     * The vectors' sum (in c order) goes to sums[0..W).
     */
    static void exp(float[] a, int off, int n, float[] shift, float[] sums) {
        FloatVector sh = FloatVector.fromArray(F, shift, 0), acc = FloatVector.zero(F);
        for (int c = 0; c < n; c++) {
            int o = off + c * W;
            FloatVector x = FloatVector.fromArray(F, a, o).sub(sh);
            VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
            x = x.blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
            FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
            FloatVector k = t.sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1));
            p = p.fma(r, FloatVector.broadcast(F, P2));
            p = p.fma(r, FloatVector.broadcast(F, P3));
            p = p.fma(r, FloatVector.broadcast(F, P4));
            p = p.fma(r, FloatVector.broadcast(F, P5));
            FloatVector e = p.mul(r).fma(r, r).add(1f);
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                    .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            e = e.mul(bits.reinterpretAsFloats()).blend(0f, under);
            e.intoArray(a, o);
            acc = acc.add(e);
        }
        acc.intoArray(sums, 0);
    }

    /**
     * acc[d·W ..] = Σ_c w[c·W ..]·x[xOff + c·xStride + d] for d &lt; hd, c &lt; n, in c order: per dim, the lane
     * vectors weighted by one scalar each (a v, dO, q or k entry). Eight dims at a time in registers.
     */
    private static void weighted(float[] acc, float[] w, int n, float[] x, int xOff, int xStride, int hd) {
        int d0 = 0;
        for (; d0 + 8 <= hd; d0 += 8) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int c = 0, xo = xOff + d0; c < n; c++, xo += xStride) {
                FloatVector p = FloatVector.fromArray(F, w, c * W);
                a0 = p.fma(FloatVector.broadcast(F, x[xo]), a0);
                a1 = p.fma(FloatVector.broadcast(F, x[xo + 1]), a1);
                a2 = p.fma(FloatVector.broadcast(F, x[xo + 2]), a2);
                a3 = p.fma(FloatVector.broadcast(F, x[xo + 3]), a3);
                a4 = p.fma(FloatVector.broadcast(F, x[xo + 4]), a4);
                a5 = p.fma(FloatVector.broadcast(F, x[xo + 5]), a5);
                a6 = p.fma(FloatVector.broadcast(F, x[xo + 6]), a6);
                a7 = p.fma(FloatVector.broadcast(F, x[xo + 7]), a7);
            }
            int o = d0 * W;
            a0.intoArray(acc, o);
            a1.intoArray(acc, o + W);
            a2.intoArray(acc, o + 2 * W);
            a3.intoArray(acc, o + 3 * W);
            a4.intoArray(acc, o + 4 * W);
            a5.intoArray(acc, o + 5 * W);
            a6.intoArray(acc, o + 6 * W);
            a7.intoArray(acc, o + 7 * W);
        }
        for (; d0 < hd; d0++) {
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0, xo = xOff + d0; c < n; c++, xo += xStride)
                a0 = FloatVector.fromArray(F, w, c * W).fma(FloatVector.broadcast(F, x[xo]), a0);
            a0.intoArray(acc, d0 * W);
        }
    }

    /**
     * dst[off + lane·ld + d] += acc[d·W + lane] for lanes &lt; n, d &lt; hd: a block's lanes back into rows; a whole
     * block as a gather, add and scatter per dim (rows = {@link #rows}(ld)), the same sums as the scalar loop.
     */
    static void addRows(float[] dst, int off, int ld, float[] acc, int n, int hd, int[] rows) {
        if (n == W) {
            for (int d = 0; d < hd; d++)
                FloatVector.fromArray(F, dst, off + d, rows, 0).add(FloatVector.fromArray(F, acc, d * W))
                        .intoArray(dst, off + d, rows, 0);
            return;
        }
        for (int lane = 0; lane < n; lane++)
            for (int d = 0; d < hd; d++) dst[off + lane * ld + d] += acc[d * W + lane];
    }

    /**
     * A block of n queries done: lse[lseOff + lane] = max + log(sum) and out[off + lane·ldo + d] =
     * acc[d·W + lane] · (1 / sum[lane]) for lanes &lt; n, a whole block's rows as scatters (orows = rows(ldo)).
     */
    static void finish(float[] out, int off, int ldo, float[] lse, int lseOff, float[] acc, float[] max, float[] sum,
                       int n, int hd, int[] orows) {
        for (int lane = 0; lane < n; lane++) lse[lseOff + lane] = (float) (max[lane] + Math.log(sum[lane]));
        if (n == W) {
            FloatVector inv = FloatVector.broadcast(F, 1f).div(FloatVector.fromArray(F, sum, 0));
            for (int d = 0; d < hd; d++)
                FloatVector.fromArray(F, acc, d * W).mul(inv).intoArray(out, off + d, orows, 0);
            return;
        }
        for (int lane = 0; lane < n; lane++) {
            float inv = 1f / sum[lane];
            for (int d = 0; d < hd; d++) out[off + lane * ldo + d] = acc[d * W + lane] * inv;
        }
    }

    /**
     * rowDot[t] = Σ_d dO[t, d]·O[t, d] (a product, then a sum, d increasing), W rows a vector: dOᵀ from dot, O
     * gathered (orows = {@link #rows}(ldo)); the last partial block scalar, the same operations.
     */
    private static void rowDots(float[] rowDot, float[] dot, int rl, float[] out, int ob, int ldo, int seqLen, int hd,
                                int[] orows) {
        int t0 = 0;
        for (; t0 + W <= seqLen; t0 += W) {
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < hd; d++)
                acc = acc.add(FloatVector.fromArray(F, dot, d * rl + W + t0)
                        .mul(FloatVector.fromArray(F, out, ob + t0 * ldo + d, orows, 0)));
            acc.intoArray(rowDot, t0);
        }
        for (int t = t0; t < seqLen; t++) {
            int o = ob + t * ldo;
            float sumDo = 0f;
            for (int d = 0; d < hd; d++) sumDo += dot[d * rl + W + t] * out[o + d];
            rowDot[t] = sumDo;
        }
    }

    /**
     * s[c·W ..] = Σ_d t[d·ldt + tOff ..]·x[xOff + c·xStride + d] for c &lt; n, d &lt; hd in increasing order: W lanes
     * (queries or keys) against n rows of x (keys or queries), one scalar per dim broadcast. Eight dims of t at a
     * time stay in registers; s carries the partial sums from one group of dims to the next.
     */
    private static void products(float[] s, int n, float[] t, int tOff, int ldt, float[] x, int xOff, int xStride,
                                 int hd) {
        java.util.Arrays.fill(s, 0, n * W, 0f);
        int d0 = 0;
        for (; d0 + 8 <= hd; d0 += 8) {
            int to = d0 * ldt + tOff;
            FloatVector t0 = FloatVector.fromArray(F, t, to), t1 = FloatVector.fromArray(F, t, to + ldt);
            FloatVector t2 = FloatVector.fromArray(F, t, to + 2 * ldt), t3 = FloatVector.fromArray(F, t, to + 3 * ldt);
            FloatVector t4 = FloatVector.fromArray(F, t, to + 4 * ldt), t5 = FloatVector.fromArray(F, t, to + 5 * ldt);
            FloatVector t6 = FloatVector.fromArray(F, t, to + 6 * ldt), t7 = FloatVector.fromArray(F, t, to + 7 * ldt);
            int c = 0, xo = xOff + d0;
            for (; c + 1 < n; c += 2, xo += 2 * xStride) {             // two rows: two FMA chains interleaved
                int xp = xo + xStride;
                FloatVector a = FloatVector.fromArray(F, s, c * W), e = FloatVector.fromArray(F, s, c * W + W);
                a = t0.fma(FloatVector.broadcast(F, x[xo]), a);
                e = t0.fma(FloatVector.broadcast(F, x[xp]), e);
                a = t1.fma(FloatVector.broadcast(F, x[xo + 1]), a);
                e = t1.fma(FloatVector.broadcast(F, x[xp + 1]), e);
                a = t2.fma(FloatVector.broadcast(F, x[xo + 2]), a);
                e = t2.fma(FloatVector.broadcast(F, x[xp + 2]), e);
                a = t3.fma(FloatVector.broadcast(F, x[xo + 3]), a);
                e = t3.fma(FloatVector.broadcast(F, x[xp + 3]), e);
                a = t4.fma(FloatVector.broadcast(F, x[xo + 4]), a);
                e = t4.fma(FloatVector.broadcast(F, x[xp + 4]), e);
                a = t5.fma(FloatVector.broadcast(F, x[xo + 5]), a);
                e = t5.fma(FloatVector.broadcast(F, x[xp + 5]), e);
                a = t6.fma(FloatVector.broadcast(F, x[xo + 6]), a);
                e = t6.fma(FloatVector.broadcast(F, x[xp + 6]), e);
                a = t7.fma(FloatVector.broadcast(F, x[xo + 7]), a);
                e = t7.fma(FloatVector.broadcast(F, x[xp + 7]), e);
                a.intoArray(s, c * W);
                e.intoArray(s, c * W + W);
            }
            if (c < n) {
                FloatVector a = FloatVector.fromArray(F, s, c * W);
                a = t0.fma(FloatVector.broadcast(F, x[xo]), a);
                a = t1.fma(FloatVector.broadcast(F, x[xo + 1]), a);
                a = t2.fma(FloatVector.broadcast(F, x[xo + 2]), a);
                a = t3.fma(FloatVector.broadcast(F, x[xo + 3]), a);
                a = t4.fma(FloatVector.broadcast(F, x[xo + 4]), a);
                a = t5.fma(FloatVector.broadcast(F, x[xo + 5]), a);
                a = t6.fma(FloatVector.broadcast(F, x[xo + 6]), a);
                a = t7.fma(FloatVector.broadcast(F, x[xo + 7]), a);
                a.intoArray(s, c * W);
            }
        }
        for (; d0 < hd; d0++) {
            FloatVector t0 = FloatVector.fromArray(F, t, d0 * ldt + tOff);
            for (int c = 0, xo = xOff + d0; c < n; c++, xo += xStride)
                t0.fma(FloatVector.broadcast(F, x[xo]), FloatVector.fromArray(F, s, c * W)).intoArray(s, c * W);
        }
    }

    /** forward of pairs bh in [bhLo, bhHi), as Attention.forward. */
    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int seqLen, int bhLo, int bhHi) {
        forward(out, lse, qkv, spec, seqLen, bhLo, bhHi, true);
    }

    /** diagonals false: every head on the broadcasting kernels (AttentionKernelsTest compares the two). */
    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int seqLen, int bhLo, int bhHi,
                        boolean diagonals) {
        int heads = spec.heads(), hd = spec.headDim(), ld = 3 * hd * heads, ldo = hd * heads, rl = rowLength(seqLen);
        float scale = AttentionVectorOps.scale(hd);
        float[] qt = new float[hd * rl], kt = new float[hd * rl], vt = new float[hd * rl];
        float[] s = new float[seqLen * W], acc = new float[hd * W], max = new float[W], sum = new float[W];
        int[] rows = rows(ld), orows = rows(ldo);
        for (int bh = bhLo; bh < bhHi; bh++) {
            int b = bh / heads, h = bh % heads, w = spec.window(h), base = b * seqLen * ld + h * 3 * hd;
            int ob = b * seqLen * ldo + h * hd;
            float slope = (float) spec.slope(h), wl = w > 0 ? w : Float.POSITIVE_INFINITY;
            transpose(qt, W, rl, qkv, base, ld, seqLen, hd, rows);
            if (diagonals && AttentionDiagonals.applies(w)) {
                transpose(kt, W, rl, qkv, base + hd, ld, seqLen, hd, rows);
                transpose(vt, W, rl, qkv, base + 2 * hd, ld, seqLen, hd, rows);
                AttentionDiagonals.forwardHead(out, ob, ldo, lse, bh * seqLen, qt, kt, vt, rl, hd, seqLen, w, scale,
                        slope, s, acc, max, sum, orows);
                continue;
            }
            for (int i0 = 0; i0 < seqLen; i0 += W) {
                int n = Math.min(W, seqLen - i0), jLo = w > 0 ? Math.max(0, i0 - w + 1) : 0, nk = i0 + n - jLo;
                products(s, nk, qt, W + i0, rl, qkv, base + hd + jLo * ld, ld, hd);     // S = Q·Kᵀ
                scores(s, max, nk, i0, jLo, scale, slope, wl);
                exp(s, 0, nk, max, sum);
                weighted(acc, s, nk, qkv, base + 2 * hd + jLo * ld, ld, hd);           // Oᵀ = Σ_j v_j·P[j]
                finish(out, ob + i0 * ldo, ldo, lse, bh * seqLen + i0, acc, max, sum, n, hd, orows);
            }
        }
    }

    /** backward of pairs bh in [bhLo, bhHi), accumulating into dqkv, as Attention.backward. */
    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int seqLen, int bhLo, int bhHi) {
        backward(dqkv, dout, qkv, out, lse, spec, seqLen, bhLo, bhHi, true);
    }

    /** diagonals false: every head on the broadcasting kernels, as forward. */
    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int seqLen, int bhLo, int bhHi, boolean diagonals) {
        int heads = spec.heads(), hd = spec.headDim(), ld = 3 * hd * heads, ldo = hd * heads;
        int tp = padded(seqLen), rl = rowLength(seqLen), pl = tp + W;
        float scale = AttentionVectorOps.scale(hd);
        float[] qt = new float[hd * rl], dot = new float[hd * rl], kt = new float[hd * rl], vt = new float[hd * rl];
        float[] l = new float[tp], rowDot = new float[tp], p = new float[seqLen * W], ds = new float[seqLen * W];
        float[] acc = new float[hd * W], pd = null, dsd = null;
        int[] rows = rows(ld), orows = rows(ldo);
        for (int bh = bhLo; bh < bhHi; bh++) {
            int b = bh / heads, h = bh % heads, w = spec.window(h), base = b * seqLen * ld + h * 3 * hd;
            int kb = base + hd, vb = base + 2 * hd, ob = b * seqLen * ldo + h * hd;
            float slope = (float) spec.slope(h), wl = w > 0 ? w : Float.POSITIVE_INFINITY;
            transpose(qt, W, rl, qkv, base, ld, seqLen, hd, rows);
            transpose(kt, W, rl, qkv, kb, ld, seqLen, hd, rows);
            transpose(vt, W, rl, qkv, vb, ld, seqLen, hd, rows);
            transpose(dot, W, rl, dout, ob, ldo, seqLen, hd, orows);
            rowDots(rowDot, dot, rl, out, ob, ldo, seqLen, hd, orows);
            System.arraycopy(lse, bh * seqLen, l, 0, seqLen);
            if (diagonals && AttentionDiagonals.applies(w)) {
                if (pd == null) {            // P and dS by diagonal; queries past tp stay zero for the key blocks
                    pd = new float[Math.min(W / 2, seqLen) * pl];
                    dsd = new float[pd.length];
                }
                AttentionDiagonals.backwardHead(dqkv, base, kb, vb, ld, qt, kt, vt, dot, rl, hd, l, rowDot, seqLen, w,
                        scale, slope, pd, dsd, pl, acc, rows);
                continue;
            }
            for (int i0 = 0; i0 < seqLen; i0 += W) {                   // queries on the lanes: dS, then dQ
                int n = Math.min(W, seqLen - i0), jLo = w > 0 ? Math.max(0, i0 - w + 1) : 0, nk = i0 + n - jLo;
                products(p, nk, qt, W + i0, rl, qkv, kb + jLo * ld, ld, hd);          // S = Q·Kᵀ
                products(ds, nk, dot, W + i0, rl, qkv, vb + jLo * ld, ld, hd);        // dP = dO·Vᵀ
                queryLanes(p, ds, nk, i0, jLo, l, rowDot, scale, slope, wl);
                weighted(acc, ds, nk, qkv, kb + jLo * ld, ld, hd);                   // dQᵀ = Σ_j k_j·dS[j]
                addRows(dqkv, base + i0 * ld, ld, acc, n, hd, rows);
            }
            for (int j0 = 0; j0 < seqLen; j0 += W) {                   // keys on the lanes: P and dS again, dV, dK
                int n = Math.min(W, seqLen - j0), iLo = j0;
                int iHi = w > 0 ? Math.min(seqLen - 1, j0 + W - 1 + w - 1) : seqLen - 1, nq = iHi - iLo + 1;
                products(p, nq, kt, W + j0, rl, qkv, base + iLo * ld, ld, hd);        // S = Q·Kᵀ
                products(ds, nq, vt, W + j0, rl, dout, ob + iLo * ldo, ldo, hd);      // dP = dO·Vᵀ
                keyLanes(p, ds, nq, j0, iLo, l, rowDot, scale, slope, wl);
                weighted(acc, p, nq, dout, ob + iLo * ldo, ldo, hd);                 // dVᵀ = Σ_i dO_i·P[i]
                addRows(dqkv, vb + j0 * ld, ld, acc, n, hd, rows);
                weighted(acc, ds, nq, qkv, base + iLo * ld, ld, hd);                 // dKᵀ = Σ_i q_i·dS[i]
                addRows(dqkv, kb + j0 * ld, ld, acc, n, hd, rows);
            }
        }
    }

    /*
     * The scores' bias and mask (and in the backward the exp and dS), per block of lanes, in methods of their own:
     * forward and backward call them once a block and hold no vector across their loops. Written out in backward,
     * with the exp in a 325-bytecode dsFromP that C2 inlined there, they boxed in 3 of 4 JVMs (JFR: ~1 GB of float[]
     * garbage every 4 s, attentionBackward 3.6–8.7 ms a step against 2.6, bench cpu's transformer on an AVX-512
     * Xeon): C2 compiled backward on stack replacement with the lane-index vector boxed, or ran out of its inlining
     * budget partway through the Vector API calls. The backward's two kernels are over the 325-bytecode limit, so
     * each compiles alone; the exp is written out in both (a shared helper would be inlined again, or take vectors).
     */

    /**
     * Queries i0.. on the lanes, keys jLo.. over c in [0, nk): s[c·W ..] = s·scale − slope·(q − k), −∞ where a lane
     * may not see the key (q − w < k <= q); max[0..W) = the lanes' maxima over c.
     */
    private static void scores(float[] s, float[] max, int nk, int i0, int jLo, float scale, float slope, float wl) {
        FloatVector qi = FloatVector.fromArray(F, IOTA, 0).add(i0);
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < nk; c++) {
            FloatVector dist = qi.sub(jLo + c);                                     // q − k
            FloatVector sc = FloatVector.fromArray(F, s, c * W).mul(scale).sub(dist.mul(slope))
                    .blend(Float.NEGATIVE_INFINITY,
                            dist.compare(VectorOperators.LT, 0f).or(dist.compare(VectorOperators.GE, wl)));
            sc.intoArray(s, c * W);
            m = m.blend(sc, sc.compare(VectorOperators.GT, m));     // a NaN never wins; it propagates below
        }
        m.intoArray(max, 0);
    }

    /**
     * The backward's query pass over c in [0, nk), queries i0.. on the lanes, keys jLo..: with x = the scores (as
     * {@link #scores}) − lse of the lanes' queries, −∞ where masked, p[c·W ..] ← exp(x) (P) and ds[c·W ..] ←
     * P·(ds − rowDot of the lanes' queries)·scale (ds holds dP): dS. The bias and mask, then the exp, in one
     * method (over C2's 325-bytecode inlining limit, so it is compiled on its own and never hits the caller's
     * inlining budget halfway through its Vector API calls).
     */
    private static void queryLanes(float[] p, float[] ds, int nk, int i0, int jLo, float[] l, float[] rowDot,
                                   float scale, float slope, float wl) {
        FloatVector qi = FloatVector.fromArray(F, IOTA, 0).add(i0), li = FloatVector.fromArray(F, l, i0);
        FloatVector di = FloatVector.fromArray(F, rowDot, i0);
        for (int c = 0; c < nk; c++) {
            int o = c * W;
            FloatVector dist = qi.sub(jLo + c);                                     // q − k
            FloatVector x = FloatVector.fromArray(F, p, o).mul(scale).sub(dist.mul(slope)).sub(li)
                    .blend(Float.NEGATIVE_INFINITY,
                            dist.compare(VectorOperators.LT, 0f).or(dist.compare(VectorOperators.GE, wl)));
            x.intoArray(p, o);
            FloatVector.fromArray(F, ds, o).sub(di).intoArray(ds, o);
        }
        for (int c = 0; c < nk; c++) {                                   // P = exp(x), dS = P·(dP − rowDot)·scale
            int o = c * W;
            FloatVector x = FloatVector.fromArray(F, p, o);
            VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
            x = x.blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
            FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
            FloatVector k = t.sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector q = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1));
            q = q.fma(r, FloatVector.broadcast(F, P2));
            q = q.fma(r, FloatVector.broadcast(F, P3));
            q = q.fma(r, FloatVector.broadcast(F, P4));
            q = q.fma(r, FloatVector.broadcast(F, P5));
            FloatVector e = q.mul(r).fma(r, r).add(1f);
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                    .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            e = e.mul(bits.reinterpretAsFloats()).blend(0f, under);
            e.intoArray(p, o);
            e.mul(FloatVector.fromArray(F, ds, o)).mul(scale).intoArray(ds, o);
        }
    }

    /** The backward's key pass: keys j0.. on the lanes, queries iLo.. over c in [0, nq); as queryLanes. */
    private static void keyLanes(float[] p, float[] ds, int nq, int j0, int iLo, float[] l, float[] rowDot,
                                 float scale, float slope, float wl) {
        FloatVector kj = FloatVector.fromArray(F, IOTA, 0).add(j0);
        for (int c = 0; c < nq; c++) {
            int o = c * W, i = iLo + c;
            FloatVector dist = kj.neg().add(i);                                     // q − k
            FloatVector x = FloatVector.fromArray(F, p, o).mul(scale).sub(dist.mul(slope)).sub(l[i])
                    .blend(Float.NEGATIVE_INFINITY,
                            dist.compare(VectorOperators.LT, 0f).or(dist.compare(VectorOperators.GE, wl)));
            x.intoArray(p, o);
            FloatVector.fromArray(F, ds, o).sub(rowDot[i]).intoArray(ds, o);
        }
        for (int c = 0; c < nq; c++) {                                   // P = exp(x), dS = P·(dP − rowDot)·scale
            int o = c * W;
            FloatVector x = FloatVector.fromArray(F, p, o);
            VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
            x = x.blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
            FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
            FloatVector k = t.sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector q = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1));
            q = q.fma(r, FloatVector.broadcast(F, P2));
            q = q.fma(r, FloatVector.broadcast(F, P3));
            q = q.fma(r, FloatVector.broadcast(F, P4));
            q = q.fma(r, FloatVector.broadcast(F, P5));
            FloatVector e = q.mul(r).fma(r, r).add(1f);
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                    .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            e = e.mul(bits.reinterpretAsFloats()).blend(0f, under);
            e.intoArray(p, o);
            e.mul(FloatVector.fromArray(F, ds, o)).mul(scale).intoArray(ds, o);
        }
    }
}
