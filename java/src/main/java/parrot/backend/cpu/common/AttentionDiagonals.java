package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The heads of {@link AttentionQueryLanes} with a narrow Hard-ALiBi window (w ≤ W/2: the quickstart's windows of
 * 1–4 with AVX-512's 16 lanes), by diagonals. A vector holds W consecutive queries i0 + lane and, at diagonal δ,
 * the keys i0 + lane − δ: one query-key pair a lane, all at distance δ = q − k, so a block of queries costs w
 * vectors, where the broadcasting kernels walk every key any of its queries sees (W + w − 1, 15 of every 16 pairs
 * masked at w = 1). With the head transposed (hd rows over positions, zero padded by W on both sides) every
 * operand is a vector load (Qᵀ[d] at i0, Kᵀ[d] at i0 − δ), and the bias −slope·δ is a scalar a diagonal.
 * <ul>
 *   <li>Forward, per block of queries: the scores of its diagonals, their lanes' max, P = exp(S − max) and its sum,
 *       Oᵀ[d] = Σ P·Vᵀ[d] (shifted), in key order (diagonals from the largest δ down).</li>
 *   <li>Backward, per block of queries: S and dP of each diagonal, P = exp(S − lse) and dS = P·(dP − rowsum(dO∘O))
 *       kept by diagonal ([δ][query], w·(T + 2W) floats each), and dQᵀ[d] = Σ dS·Kᵀ[d] in key order. Then per
 *       block of keys on the lanes the same pairs seen from the keys' side (query j + δ) are the kept values at
 *       [δ][j0 + δ ..]: dVᵀ[d] = Σ_δ P·dOᵀ[d] and dKᵀ[d] = Σ_δ dS·Qᵀ[d] in query order, nothing recomputed.</li>
 * </ul>
 * Where the window is wide or there is none the shifted loads lose: a 64-byte load at an offset that is not a
 * multiple of 16 floats spans two cache lines, and the broadcasting kernels' scalar loads never do (a causal 64 × 8
 * head: forward 5.8 µs against 3.8, AVX-512, one core).
 *
 * <p>Bits: the same products, summed in the same order from the same starting zero, as the broadcasting kernels',
 * and a pair a lane may not see (a key before 0, a query past T) adds an exact zero; so each result has the
 * broadcasting kernels' bits (AttentionKernelsTest), which are a lane's own sums whatever W is.
 */
final class AttentionDiagonals {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final VectorSpecies<Integer> I = VectorWidth.INT;
    static final int W = F.length();
    private static final float[] IOTA = AttentionVectorOps.IOTA;
    private static final float EXP_HI = AttentionVectorOps.EXP_HI, EXP_LO = AttentionVectorOps.EXP_LO;
    private static final float LOG2E = AttentionVectorOps.LOG2E, LN2_HI = AttentionVectorOps.LN2_HI,
            LN2_LO = AttentionVectorOps.LN2_LO, ROUNDER = AttentionVectorOps.ROUNDER;
    private static final int ROUNDER_BITS = AttentionVectorOps.ROUNDER_BITS;
    private static final float P0 = AttentionVectorOps.P0, P1 = AttentionVectorOps.P1, P2 = AttentionVectorOps.P2,
            P3 = AttentionVectorOps.P3, P4 = AttentionVectorOps.P4, P5 = AttentionVectorOps.P5;

    private AttentionDiagonals() {
    }

    /** Whether a head with this window takes the diagonals (0: causal, no window). */
    static boolean applies(int window) {
        return window > 0 && window <= W / 2;
    }

    /**
     * Forward of one head, transposed in qt, kt, vt (row length rl, positions from W): lse[lseOff + i] and the
     * rows of out from outOff (stride ldo). s: scratch of w·W floats; acc hd·W; max and sum W.
     */
    static void forwardHead(float[] out, int outOff, int ldo, float[] lse, int lseOff, float[] qt, float[] kt,
                            float[] vt, int rl, int hd, int seqLen, int window, float scale, float slope, float[] s,
                            float[] acc, float[] max, float[] sum, int[] orows) {
        int nDiag = Math.min(window, seqLen);
        for (int i0 = 0; i0 < seqLen; i0 += W) {
            int n = Math.min(W, seqLen - i0), nd = Math.min(nDiag, i0 + n);
            scores(s, max, nd, i0, qt, kt, rl, hd, scale, slope);          // s[c] holds diagonal nd − 1 − c
            AttentionQueryLanes.exp(s, 0, nd, max, sum);
            shifted(acc, s, 0, W, nd, vt, W + i0 - nd + 1, rl, hd);          // Oᵀ = Σ P·Vᵀ, keys increasing
            AttentionQueryLanes.finish(out, outOff + i0 * ldo, ldo, lse, lseOff + i0, acc, max, sum, n, hd, orows);
        }
    }

    /**
     * Backward of one head, accumulating its dQ, dK and dV rows (from qOff, kOff, vOff, stride ld) into dqkv: qt, kt,
     * vt, dot (dOᵀ) transposed as in forwardHead, l its lse and rowDot its rowsum(dO∘O) (tp floats, zero past T).
     * p and ds: min(w, T)·(tp + W) floats, zero past tp; acc hd·W.
     */
    static void backwardHead(float[] dqkv, int qOff, int kOff, int vOff, int ld, float[] qt, float[] kt, float[] vt,
                             float[] dot, int rl, int hd, float[] l, float[] rowDot, int seqLen, int window,
                             float scale, float slope, float[] p, float[] ds, int pl, float[] acc, int[] rows) {
        int nDiag = Math.min(window, seqLen);
        for (int i0 = 0; i0 < seqLen; i0 += W) {                       // queries on the lanes: P, dS, then dQ
            // every diagonal any lane of the block could have, so the key blocks below read this head's values
            // (zeros for queries past T), never a previous head's
            int n = Math.min(W, seqLen - i0), nd = Math.min(nDiag, i0 + W);
            queryPass(p, ds, pl, nd, i0, seqLen, qt, kt, vt, dot, rl, hd, l, rowDot, scale, slope);
            shifted(acc, ds, (nd - 1) * pl + i0, -pl, nd, kt, W + i0 - nd + 1, rl, hd);   // dQᵀ, keys increasing
            AttentionQueryLanes.addRows(dqkv, qOff + i0 * ld, ld, acc, n, hd, rows);
        }
        for (int j0 = 0; j0 < seqLen; j0 += W) {                       // keys on the lanes, queries increasing
            int n = Math.min(W, seqLen - j0), nd = Math.min(nDiag, seqLen - j0);
            shifted(acc, p, j0, pl + 1, nd, dot, W + j0, rl, hd);                     // dVᵀ = Σ_δ P·dOᵀ
            AttentionQueryLanes.addRows(dqkv, vOff + j0 * ld, ld, acc, n, hd, rows);
            shifted(acc, ds, j0, pl + 1, nd, qt, W + j0, rl, hd);                     // dKᵀ = Σ_δ dS·Qᵀ
            AttentionQueryLanes.addRows(dqkv, kOff + j0 * ld, ld, acc, n, hd, rows);
        }
    }

    /**
     * acc[d·W ..] = Σ_c w[wOff + c·wStep ..]·x[xOff + d·rl + c ..] for d &lt; hd, c &lt; n, in c order: per dim, the
     * weight vectors (P or dS of one diagonal) times a transposed head's row shifted by c (a v, dO, q or k for
     * each lane's own pair). Eight dims at a time in registers. The forward's P·V and the backward's dS·K
     * (diagonals in key order), P·dO and dS·Q (in query order).
     */
    private static void shifted(float[] acc, float[] w, int wOff, int wStep, int n, float[] x, int xOff, int rl,
                                int hd) {
        int d0 = 0;
        for (; d0 + 8 <= hd; d0 += 8) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            int x0 = xOff + d0 * rl;
            for (int c = 0, wo = wOff, xo = x0; c < n; c++, wo += wStep, xo++) {
                FloatVector p = FloatVector.fromArray(F, w, wo);
                a0 = p.fma(FloatVector.fromArray(F, x, xo), a0);
                a1 = p.fma(FloatVector.fromArray(F, x, xo + rl), a1);
                a2 = p.fma(FloatVector.fromArray(F, x, xo + 2 * rl), a2);
                a3 = p.fma(FloatVector.fromArray(F, x, xo + 3 * rl), a3);
                a4 = p.fma(FloatVector.fromArray(F, x, xo + 4 * rl), a4);
                a5 = p.fma(FloatVector.fromArray(F, x, xo + 5 * rl), a5);
                a6 = p.fma(FloatVector.fromArray(F, x, xo + 6 * rl), a6);
                a7 = p.fma(FloatVector.fromArray(F, x, xo + 7 * rl), a7);
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
            for (int c = 0, wo = wOff, xo = xOff + d0 * rl; c < n; c++, wo += wStep, xo++)
                a0 = FloatVector.fromArray(F, w, wo).fma(FloatVector.fromArray(F, x, xo), a0);
            a0.intoArray(acc, d0 * W);
        }
    }

    /**
     * The forward's scores of query block i0, diagonals δ &lt; nd, in key order (s[c·W ..] holds δ = nd−1−c):
     * Σ_d Qᵀ[d]·Kᵀ[d] shifted by δ, ·scale − slope·δ, −∞ where the key is before 0; max[0..W) the lanes' maxima.
     */
    private static void scores(float[] s, float[] max, int nd, int i0, float[] qt, float[] kt, int rl, int hd,
                               float scale, float slope) {
        FloatVector qi = FloatVector.fromArray(F, IOTA, 0).add(i0);
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int qo = W + i0;
        for (int c = 0; c < nd; c++) {
            int dl = nd - 1 - c, ko = qo - dl;
            FloatVector a = FloatVector.zero(F);
            for (int d = 0, r = 0; d < hd; d++, r += rl)
                a = FloatVector.fromArray(F, qt, r + qo).fma(FloatVector.fromArray(F, kt, r + ko), a);
            float fd = dl;
            FloatVector sc = a.mul(scale).sub(fd * slope).blend(Float.NEGATIVE_INFINITY, qi.compare(VectorOperators.LT, fd));
            sc.intoArray(s, c * W);
            m = m.blend(sc, sc.compare(VectorOperators.GT, m));     // a NaN never wins; it propagates below
        }
        m.intoArray(max, 0);
    }

    /*
     * queryPass is over C2's 325-bytecode inlining limit, so it compiles alone and the caller never runs out of its
     * inlining budget partway through its Vector API calls; the exp is written out in it (a shared helper would be
     * inlined again, or take vectors).
     */

    /**
     * The backward's query block i0, diagonals δ &lt; nd: S and dP of the lanes' pairs, then with
     * x = S·scale − slope·δ − lse, −∞ where the key is before 0 or the query past T, P = exp(x) into
     * p[δ·pl + i0 ..] and dS = P·(dP − rowDot)·scale into ds[δ·pl + i0 ..].
     */
    private static void queryPass(float[] p, float[] ds, int pl, int nd, int i0, int seqLen, float[] qt, float[] kt,
                                  float[] vt, float[] dot, int rl, int hd, float[] l, float[] rowDot, float scale,
                                  float slope) {
        FloatVector qi = FloatVector.fromArray(F, IOTA, 0).add(i0), li = FloatVector.fromArray(F, l, i0);
        FloatVector di = FloatVector.fromArray(F, rowDot, i0);
        VectorMask<Float> past = qi.compare(VectorOperators.GE, (float) seqLen);
        int qo = W + i0;
        for (int dl = 0; dl < nd; dl++) {
            int ko = qo - dl, o = dl * pl + i0;
            FloatVector a = FloatVector.zero(F), g = a;
            for (int d = 0, r = 0; d < hd; d++, r += rl) {
                a = FloatVector.fromArray(F, qt, r + qo).fma(FloatVector.fromArray(F, kt, r + ko), a);    // S
                g = FloatVector.fromArray(F, dot, r + qo).fma(FloatVector.fromArray(F, vt, r + ko), g);   // dP
            }
            float fd = dl;
            FloatVector x = a.mul(scale).sub(fd * slope).sub(li)
                    .blend(Float.NEGATIVE_INFINITY, qi.compare(VectorOperators.LT, fd).or(past));
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
            e.mul(g.sub(di)).mul(scale).intoArray(ds, o);
        }
    }
}
