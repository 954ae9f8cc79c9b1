package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ScanSimd} on the Vector API. No method here takes or returns a vector (see ScanSimd for why): the exp
 * polynomial is written out once, in {@link #exp}, and the other ops reach it through arrays (their own output
 * row or a scratch row). The exp's constants and operations are those of VectorOps.expV, in the same order, so it
 * gives the bits Simd.exp does. Shifts take their count as a vector: C2 in Java 17
 * did not always intrinsify the shift by a scalar count (VectorSupport.broadcastInt) inside softplus, and one
 * failed intrinsic boxes the vectors around it (the old softplus ran at ~10 ns an element).
 */
final class ScanVectorOps {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final VectorSpecies<Integer> I = VectorWidth.INT;
    private static final int W = F.length();
    /** Scratch rows are cut to this many floats (16 KiB), so a call allocates little whatever n is. */
    private static final int PIECE = 4096;

    private static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365478515625f;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUNDER = 12582912f;   // 1.5·2^23: adding it rounds to an integer in the low bits
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;


    private ScanVectorOps() {
    }

    static int lanes() {
        return W;
    }

    // Cephes expf: x = k·ln2 + r, 1 + r + r²·p(r), times 2^k from exponent bits; input clamped to float's range.
    // The clamp is a compare and blend per side, not max/min: C2 gives FloatVector.max/min Math.max's NaN and −0
    // rules with ~4 instructions each on AVX2, a third of this loop's time; on [EXP_LO, EXP_HI]'s bounds and NaN
    // (compares false: NaN stays NaN) the blends give the same values, so the same bits as VectorOps.expV.
    static void exp(float[] a, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += W) {
            FloatVector x = FloatVector.fromArray(F, a, off + i);
            x = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO)).blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
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
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127).lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            e.mul(bits.reinterpretAsFloats()).intoArray(a, off + i);
        }
        // expS's operations written out, not called: that puts this method over C2's 325-bytecode inlining limit
        // (FreqInlineSize), so it is compiled on its own. At 325 it was inlined into softplus and sigmoid, whose
        // compiles then ran past C2's inlining budget in 3 of 4 JVMs (more often without stack replacement) and
        // left their Vector API calls boxed: `bench cpu`'s Mamba at 22-50 heap MB/step against 9.6, ~10% slower.
        for (; i < n; i++) {
            float x = Math.min(Math.max(a[off + i], EXP_LO), EXP_HI);
            float t = Math.fma(x, LOG2E, ROUNDER);
            float k = t - ROUNDER;
            float r = Math.fma(k, -LN2_HI, x);
            r = Math.fma(k, -LN2_LO, r);
            float p = Math.fma(P0, r, P1);
            p = Math.fma(p, r, P2);
            p = Math.fma(p, r, P3);
            p = Math.fma(p, r, P4);
            p = Math.fma(p, r, P5);
            float e = Math.fma(p * r, r, r) + 1f;
            a[off + i] = e * Float.intBitsToFloat(((Float.floatToRawIntBits(t) - ROUNDER_BITS) + 127) << 23);
        }
    }

    /** {@link #exp} on one float, the same operations in the same order. */
    static float expS(float x) {
        x = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(x, LOG2E, ROUNDER);
        float k = t - ROUNDER;
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float e = Math.fma(p * r, r, r) + 1f;
        int bits = ((Float.floatToRawIntBits(t) - ROUNDER_BITS) + 127) << 23;
        return e * Float.intBitsToFloat(bits);
    }

    /*
     * softplus(x) = max(x, 0) + log1p(t), t = exp(−|x|) in (0, 1], and log1p(t) = 2·atanh(w), w = t/(2 + t) in
     * (0, 1/3]: 2w·(1 + w²/3 + w⁴/5 + … + w¹⁴/15), whose next term is below 2e−9 of the value. No exponent bits
     * are taken apart (C2 in Java 17 did not always intrinsify the int shifts and reinterprets that needs inside
     * this loop, and one failed intrinsic boxes every vector around it); one exp, one division, eight FMAs. Above
     * torch's threshold of 20, log1p(t) < 2.1e−9 is below half an ulp of x, so the result is x, as torch's. For
     * x < −87.3 the exp's clamp gives float's smallest normal (1.2e−38) rather than a subnormal.
     * The same exp gives σ(x) = 1/(1 + t) for x >= 0, t/(1 + t) below: softplus' derivative, for the backward.
     */
    private static final float C3 = 1f / 3, C5 = 1f / 5, C7 = 1f / 7, C9 = 1f / 9, C11 = 1f / 11, C13 = 1f / 13,
            C15 = 1f / 15;

    /** a ← softplus(a); with sg given, sg[off..off+n) ← σ(a) of the input (sg may not be a). */
    private static final Scratch SOFTPLUS = new Scratch(1), SILU_BACKWARD = new Scratch(1), ADVANCE = new Scratch(1);

    static void softplus(float[] a, float[] sg, int off, int n) {
        float[] t = SOFTPLUS.get(0, Math.min(n, PIECE));
        for (int p0 = 0; p0 < n; p0 += PIECE) {
            int len = Math.min(PIECE, n - p0), base = off + p0, i = 0;
            for (int up = F.loopBound(len); i < up; i += W)
                FloatVector.fromArray(F, a, base + i).abs().neg().intoArray(t, i);
            for (; i < len; i++) t[i] = -Math.abs(a[base + i]);
            exp(t, 0, len);
            i = 0;
            FloatVector one = FloatVector.broadcast(F, 1f), zero = FloatVector.zero(F);
            for (int up = F.loopBound(len); i < up; i += W) {
                FloatVector x = FloatVector.fromArray(F, a, base + i), tv = FloatVector.fromArray(F, t, i);
                FloatVector w = tv.div(tv.add(2f)), z = w.mul(w);
                FloatVector p = FloatVector.broadcast(F, C15).fma(z, FloatVector.broadcast(F, C13));
                p = p.fma(z, FloatVector.broadcast(F, C11));
                p = p.fma(z, FloatVector.broadcast(F, C9));
                p = p.fma(z, FloatVector.broadcast(F, C7));
                p = p.fma(z, FloatVector.broadcast(F, C5));
                p = p.fma(z, FloatVector.broadcast(F, C3));
                p = p.fma(z, one);
                FloatVector w2 = w.add(w);
                if (sg != null) {
                    FloatVector q = one.div(tv.add(1f));
                    q.mul(tv).blend(q, x.compare(VectorOperators.GE, 0f)).intoArray(sg, base + i);
                }
                w2.fma(p, x.max(zero)).intoArray(a, base + i);
            }
            for (; i < len; i++) {
                float x = a[base + i], tv = t[i];
                float w = tv / (tv + 2f), z = w * w;
                float p = Math.fma(C15, z, C13);
                p = Math.fma(p, z, C11);
                p = Math.fma(p, z, C9);
                p = Math.fma(p, z, C7);
                p = Math.fma(p, z, C5);
                p = Math.fma(p, z, C3);
                p = Math.fma(p, z, 1f);
                if (sg != null) {
                    float q = 1f / (tv + 1f);
                    sg[base + i] = x >= 0f ? q : q * tv;
                }
                a[base + i] = Math.fma(w + w, p, Math.max(x, 0f));
            }
        }
    }

    /** a = 1/(1 + exp(−a)) in place: negate, {@link #exp}, then the division. */
    static void sigmoid(float[] a, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += W)
            FloatVector.fromArray(F, a, off + i).neg().intoArray(a, off + i);
        for (; i < n; i++) a[off + i] = -a[off + i];
        exp(a, off, n);
        FloatVector one = FloatVector.broadcast(F, 1f);
        i = 0;
        for (int up = F.loopBound(n); i < up; i += W)
            one.div(FloatVector.fromArray(F, a, off + i).add(1f)).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] = 1f / (a[off + i] + 1f);
    }

    /** out = x·σ(x), σ as {@link #sigmoid}; out may not be in. */
    static void silu(float[] out, float[] in, int off, int n) {
        System.arraycopy(in, off, out, off, n);
        sigmoid(out, off, n);
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += W)
            FloatVector.fromArray(F, in, off + i).mul(FloatVector.fromArray(F, out, off + i)).intoArray(out, off + i);
        for (; i < n; i++) out[off + i] = in[off + i] * out[off + i];
    }

    /** din += dout·σ(x)·(1 + x·(1 − σ(x))), multiplies and adds in the order Silu.siluGrad writes them. */
    static void siluBackward(float[] din, float[] dout, float[] in, int off, int n) {
        float[] s = SILU_BACKWARD.get(0, Math.min(n, PIECE));
        for (int p0 = 0; p0 < n; p0 += PIECE) {
            int len = Math.min(PIECE, n - p0), base = off + p0;
            System.arraycopy(in, base, s, 0, len);
            sigmoid(s, 0, len);
            int i = 0;
            FloatVector one = FloatVector.broadcast(F, 1f);
            for (int up = F.loopBound(len); i < up; i += W) {
                FloatVector sv = FloatVector.fromArray(F, s, i), x = FloatVector.fromArray(F, in, base + i);
                FloatVector g = sv.mul(x.mul(one.sub(sv)).add(1f));
                FloatVector.fromArray(F, dout, base + i).mul(g).add(FloatVector.fromArray(F, din, base + i))
                        .intoArray(din, base + i);
            }
            for (; i < len; i++) {
                float sv = s[i], x = in[base + i];
                din[base + i] += dout[base + i] * (sv * (1f + x * (1f - sv)));
            }
        }
    }

    /*
     * The decay factors exp(δ·A) as 2^z, z = δ·(A·log2 e): A·log2 e once per call (A is per channel and state),
     * then per element one multiply for z, k = round(z) by the 1.5·2^23 trick, f = z − k exactly (|f| <= 1/2),
     * 2^f as a degree-6 polynomial (6 fused multiply-adds, coefficients fitted to 2^f on [−1/2, 1/2], within
     * 0.8 ulp there), times 2^k from k's bits: 8 multiplies against the Cephes exp's 13, C2's bottleneck here.
     * Rounding A·log2 e and δ·(A·log2 e) costs about twice the relative error that rounding δ·A itself costs
     * exp(fl(δ·A)) (~|δA|·6e-8); ScanSimdTest checks the recurrence against exp in double. z is clamped to
     * [−126, 127] (compare and blend, as in exp): float's smallest normal below, as exp's clamp gives.
     */
    private static final float Z_LO = -126f, Z_HI = 127f;
    private static final int EXP_BIAS = (127 - ROUNDER_BITS) << 23;   // (bits(t) − bits(1.5·2^23) + 127) << 23, distributed
    private static final float Q5 = 1.5453163e-4f, Q4 = 1.3390863e-3f, Q3 = 9.618083e-3f, Q2 = 5.550357e-2f,
            Q1 = 2.402265e-1f, Q0 = 6.931472e-1f;

    /** The decay factor 2^(δ·a2), a2 = A·log2 e: the operations of {@link #advance}'s lanes, on one float. */
    static float decayS(float dl, float a2) {
        float z = dl * a2;
        z = z < Z_LO ? Z_LO : z > Z_HI ? Z_HI : z;
        float t = z + ROUNDER;
        float f = z - (t - ROUNDER);
        float q = Math.fma(Q5, f, Q4);
        q = Math.fma(q, f, Q3);
        q = Math.fma(q, f, Q2);
        q = Math.fma(q, f, Q1);
        q = Math.fma(q, f, Q0);
        float p = Math.fma(q, f, 1f);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + EXP_BIAS);
    }

    /**
     * len steps of the scan for a block of nd channels, states [N][nd] (ScanSimd.advance): per step j and state s,
     * e = exp(δ_j·A_s) (2^z as above), h ← e·h + (δ_j·u_j)·B_j,s (a fused multiply-add), y_j = Σ_s C_j,s·h (fused, s
     * in order); e stored to e[j·n·nd + s·nd + o] only where e is given (the backward keeps them; the forward does
     * not need them), so the factors make no round trip through memory. Channels past the last full vector run
     * the same operations on scalars ({@link #decayS}), so the bits do not depend on where a vector ends.
     */
    static void advance(float[] at, int atOff, float[] dls, float[] us, float[] bm, float[] cm, int rb, float[] e,
                        int eOff, float[] hs, int hsOff, boolean keep, float[] ys, int len, int nd, int n) {
        int sz = n * nd, vec = nd - nd % W;
        float[] a2 = ADVANCE.get(0, sz + 2 * nd + 16);
        int a0 = CacheLines.floatsToLine(a2);         // a2's states start on a cache line
        for (int i = 0; i < sz; i++) a2[a0 + i] = at[atOff + i] * LOG2E;
        // Per channel the least and greatest a2 over the states (NaN if any is NaN, so that the test below fails)
        int lo = a0 + sz, hi0 = a0 + sz + nd;
        for (int o = 0; o < nd; o++) {
            float mn = a2[a0 + o], mx = a2[a0 + o];
            for (int s = 1; s < n; s++) {
                mn = Math.min(mn, a2[a0 + s * nd + o]);
                mx = Math.max(mx, a2[a0 + s * nd + o]);
            }
            a2[lo + o] = mn;
            a2[hi0 + o] = mx;
        }
        IntVector shift = IntVector.broadcast(I, 23);
        for (int j = 0; j < len; j++) {
            int eb = eOff + j * sz, hi = hsOff + (keep ? j * sz : 0), ho = keep ? hi + sz : hi, rj = rb + j * n;
            int db = j * nd;
            for (int o = 0; o < vec; o += W) {
                FloatVector dl = FloatVector.fromArray(F, dls, db + o);
                FloatVector dub = dl.mul(FloatVector.fromArray(F, us, db + o));
                FloatVector y = FloatVector.zero(F);
                // The clamp of z = δ·a2 to [Z_LO, Z_HI] is the identity on this step's channels when δ·min and δ·max
                // over the states lie in it: rounding is monotone, so every fl(δ·a2_s) lies between the two. Then
                // skipping the clamp gives the same bits; C2 spent about a tenth of this kernel on it.
                // Any NaN or infinity fails a compare and takes the clamped loop.
                FloatVector zl = dl.mul(FloatVector.fromArray(F, a2, lo + o));
                FloatVector zh = dl.mul(FloatVector.fromArray(F, a2, hi0 + o));
                boolean inRange = zl.compare(VectorOperators.GE, Z_LO).and(zl.compare(VectorOperators.LE, Z_HI))
                        .and(zh.compare(VectorOperators.GE, Z_LO)).and(zh.compare(VectorOperators.LE, Z_HI)).allTrue();
                for (int s = 0; s < n; s++) {             // inRange is loop-invariant: C2 unswitches the loop
                    int i = s * nd + o;
                    FloatVector z = dl.mul(FloatVector.fromArray(F, a2, a0 + i));
                    if (!inRange)
                        z = z.blend(Z_LO, z.compare(VectorOperators.LT, Z_LO)).blend(Z_HI, z.compare(VectorOperators.GT, Z_HI));
                    FloatVector t = z.add(ROUNDER);
                    FloatVector f = z.sub(t.sub(ROUNDER));
                    FloatVector q = FloatVector.broadcast(F, Q5).fma(f, FloatVector.broadcast(F, Q4));
                    q = q.fma(f, FloatVector.broadcast(F, Q3));
                    q = q.fma(f, FloatVector.broadcast(F, Q2));
                    q = q.fma(f, FloatVector.broadcast(F, Q1));
                    q = q.fma(f, FloatVector.broadcast(F, Q0));
                    FloatVector ex = q.fma(f, FloatVector.broadcast(F, 1f)).mul(t.reinterpretAsInts()
                            .lanewise(VectorOperators.LSHL, shift).add(EXP_BIAS).reinterpretAsFloats());
                    if (e != null) ex.intoArray(e, eb + i);
                    FloatVector v = ex.fma(FloatVector.fromArray(F, hs, hi + i), dub.mul(bm[rj + s]));
                    v.intoArray(hs, ho + i);
                    y = v.fma(FloatVector.broadcast(F, cm[rj + s]), y);
                }
                y.intoArray(ys, db + o);
            }
            for (int o = vec; o < nd; o++) {
                float dl = dls[db + o], dub = dl * us[db + o], y = 0f;
                for (int s = 0; s < n; s++) {
                    int i = s * nd + o;
                    float ex = decayS(dl, a2[a0 + i]);
                    if (e != null) e[eb + i] = ex;
                    float v = Math.fma(ex, hs[hi + i], dub * bm[rj + s]);
                    hs[ho + i] = v;
                    y = Math.fma(v, cm[rj + s], y);
                }
                ys[db + o] = y;
            }
        }
    }

    /** The adjoint of one scan step (ScanSimd.adjoint): {@link #adjointPair} for blocks of two vectors, else {@link #adjointVectors}. */
    static void adjoint(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls, int jd,
                        float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta, float[] duAcc,
                        float[] dA, float[] pB, float[] pC, int pb, int nd, int n, float[] acc) {
        if (nd == 2 * W) adjointPair(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb, nd, n, acc);
        else adjointVectors(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb, nd, n, acc);
    }

    /**
     * {@link #adjoint} for any nd: channel vectors outside, states inside, so g, u, δ and the dDelta/duAcc
     * accumulators stay in registers over the states instead of being reloaded and stored for each; then the
     * channels past the last full vector as scalars. The per-state sums over channels (for dB, dC) carry from one
     * channel vector to the next through acc ([2][n][W], then 2n floats of sums), lanes summed after the last
     * vector ({@link #laneSums}), the tail's channels added to those sums in order.
     */
    static void adjointVectors(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls, int jd,
                               float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta, float[] duAcc,
                               float[] dA, float[] pB, float[] pC, int pb, int nd, int n, float[] acc) {
        int vec = F.loopBound(nd), cb = n * W;
        for (int o = 0; o < vec; o += W) {
            FloatVector gv = FloatVector.fromArray(F, g, o), uv = FloatVector.fromArray(F, uu, o);
            FloatVector dlv = FloatVector.fromArray(F, dls, jd + o);
            FloatVector dd = FloatVector.fromArray(F, dDelta, o), du = FloatVector.fromArray(F, duAcc, o);
            for (int s = 0; s < n; s++) {
                int i = s * nd + o, ai = s * W;
                FloatVector bsv = FloatVector.broadcast(F, bm[rb + s]), csv = FloatVector.broadcast(F, cm[rb + s]);
                FloatVector accB = o == 0 ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, ai);
                FloatVector accC = o == 0 ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, cb + ai);
                FloatVector ex = FloatVector.fromArray(F, es, prev + i);
                gv.fma(FloatVector.fromArray(F, hs, cur + i), accC).intoArray(acc, cb + ai);
                FloatVector dhn = gv.fma(csv, FloatVector.fromArray(F, dh, i));
                FloatVector ddA = dhn.mul(FloatVector.fromArray(F, hs, prev + i)).mul(ex);
                dd = ddA.fma(FloatVector.fromArray(F, at, i), dhn.mul(bsv).fma(uv, dd));
                if (dA != null) ddA.fma(dlv, FloatVector.fromArray(F, dA, i)).intoArray(dA, i);
                FloatVector t = dhn.mul(dlv);
                t.fma(uv, accB).intoArray(acc, ai);
                du = t.fma(bsv, du);
                dhn.mul(ex).intoArray(dh, i);
            }
            dd.intoArray(dDelta, o);
            du.intoArray(duAcc, o);
        }
        if (vec == nd) {                                // no scalar channels: the sums go straight to pB, pC
            if (pC != null) laneSums(acc, cb, n, pC, pb);
            if (pB != null) laneSums(acc, 0, n, pB, pb);
            return;
        }
        int sums = 2 * cb;                              // the vectors' sums per state, B's then C's, [2][n]
        if (vec > 0) {
            laneSums(acc, 0, n, acc, sums);
            laneSums(acc, cb, n, acc, sums + n);
        } else {
            java.util.Arrays.fill(acc, sums, sums + 2 * n, 0f);
        }
        for (int s = 0; s < n; s++) {
            float bs = bm[rb + s], cs = cm[rb + s], sB = acc[sums + s], sC = acc[sums + n + s];
            int sb = s * nd;
            for (int c = vec; c < nd; c++) {
                int i = sb + c;
                float ex = es[prev + i], dlv = dls[jd + c];
                sC += g[c] * hs[cur + i];
                float dhn = dh[i] + g[c] * cs;
                float ddA = dhn * hs[prev + i] * ex;
                dDelta[c] += ddA * at[i] + dhn * bs * uu[c];
                if (dA != null) dA[i] += ddA * dlv;
                float t = dhn * dlv;
                sB += t * uu[c];
                duAcc[c] += t * bs;
                dh[i] = dhn * ex;
            }
            if (pC != null) pC[pb + s] = sC;
            if (pB != null) pB[pb + s] = sB;
        }
    }

    /**
     * {@link #adjoint} for a block of exactly two vectors of channels (16 channels on AVX2): both vectors per state
     * in one iteration, so the two chains of dDelta's fused multiply-adds (two per state, the loop's longest
     * dependency) overlap. Each lane does the same operations in the same order as in adjointVectors, whose acc
     * adds the first vector's channels before the second's, and the per-state sums go through acc to the same
     * {@link #laneSums}, so the bits are the same (ScanVectorOpsTest).
     */
    private static void adjointPair(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls,
                                    int jd, float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta,
                                    float[] duAcc, float[] dA, float[] pB, float[] pC, int pb, int nd, int n,
                                    float[] acc) {
        int cb = n * W;
        FloatVector g0 = FloatVector.fromArray(F, g, 0), u0 = FloatVector.fromArray(F, uu, 0);
        FloatVector g1 = FloatVector.fromArray(F, g, W), u1 = FloatVector.fromArray(F, uu, W);
        FloatVector dl0 = FloatVector.fromArray(F, dls, jd), dl1 = FloatVector.fromArray(F, dls, jd + W);
        FloatVector dd0 = FloatVector.fromArray(F, dDelta, 0), du0 = FloatVector.fromArray(F, duAcc, 0);
        FloatVector dd1 = FloatVector.fromArray(F, dDelta, W), du1 = FloatVector.fromArray(F, duAcc, W);
        FloatVector zero = FloatVector.zero(F);
        for (int s = 0; s < n; s++) {
            int i = s * nd;
            FloatVector bsv = FloatVector.broadcast(F, bm[rb + s]), csv = FloatVector.broadcast(F, cm[rb + s]);
            FloatVector ex0 = FloatVector.fromArray(F, es, prev + i), ex1 = FloatVector.fromArray(F, es, prev + i + W);
            FloatVector accC = g1.fma(FloatVector.fromArray(F, hs, cur + i + W),
                    g0.fma(FloatVector.fromArray(F, hs, cur + i), zero));
            FloatVector dhn0 = g0.fma(csv, FloatVector.fromArray(F, dh, i));
            FloatVector dhn1 = g1.fma(csv, FloatVector.fromArray(F, dh, i + W));
            FloatVector ddA0 = dhn0.mul(FloatVector.fromArray(F, hs, prev + i)).mul(ex0);
            FloatVector ddA1 = dhn1.mul(FloatVector.fromArray(F, hs, prev + i + W)).mul(ex1);
            dd0 = ddA0.fma(FloatVector.fromArray(F, at, i), dhn0.mul(bsv).fma(u0, dd0));
            dd1 = ddA1.fma(FloatVector.fromArray(F, at, i + W), dhn1.mul(bsv).fma(u1, dd1));
            if (dA != null) {
                ddA0.fma(dl0, FloatVector.fromArray(F, dA, i)).intoArray(dA, i);
                ddA1.fma(dl1, FloatVector.fromArray(F, dA, i + W)).intoArray(dA, i + W);
            }
            FloatVector t0 = dhn0.mul(dl0), t1 = dhn1.mul(dl1);
            FloatVector accB = t1.fma(u1, t0.fma(u0, zero));
            du0 = t0.fma(bsv, du0);
            du1 = t1.fma(bsv, du1);
            dhn0.mul(ex0).intoArray(dh, i);
            dhn1.mul(ex1).intoArray(dh, i + W);
            accC.intoArray(acc, cb + s * W);
            accB.intoArray(acc, s * W);
        }
        if (pC != null) laneSums(acc, cb, n, pC, pb);
        if (pB != null) laneSums(acc, 0, n, pB, pb);
        dd0.intoArray(dDelta, 0);
        dd1.intoArray(dDelta, W);
        du0.intoArray(duAcc, 0);
        du1.intoArray(duAcc, W);
    }

    /**
     * One chunk of the backward for a block of exactly two vectors of channels with everything the Mamba block gives
     * the scan (gate z, skip D, δ bias and softplus; du, dδ, dz, dA, dB, dC, dD and dδ-bias wanted): the work of
     * {@link #stepInputs}, {@link #adjointPair} and {@link #stepOutputs} for all its steps, in three passes over the
     * chunk instead of three calls a step. Only the middle pass ({@link #pairStates}, the recurrence over states)
     * is sequential in time; the first ({@link #pairInputs}: g, dz, dD, du's start) and the last
     * ({@link #pairOutputs}: du, dδ, dδ-bias) depend on one step each, and run newest step first as the step
     * kernels do, so every sum adds in the same order: the same bits (ScanVectorOpsTest). The dB and dC lane
     * partials go to the array ar as [2][len][n][W] and are summed after the last step by one {@link #laneSums}
     * each, straight into pB and pC at pb0, which hold the chunk's rows one after another. Why passes and not one
     * loop: written as one, its ~110 Vector API calls ran past C2's inlining budget (NodeCountInliningCutoff),
     * and the calls left outside were boxed (Mamba at 29-105k tokens/s, up to 980 MB of garbage a step).
     *
     * <p>Arrays io = {dout, z, dz, du, ddelta, us, ys, sig, dls, sgs, dSkip, pD, pBias, ar, B, C, pB, pC}, indices
     * ix = {rowI0, d, d0, pd0, rb0, pb0, hsOff, esOff, dhOff, atOff, dAOff, accOff}: dout, z, dz, du, ddelta at rowI0
     * + j·d; us, ys, sig, dls, sgs at j·2W; B, C at rb0 + j·n; pD, pBias at pd0. The per-state buffers are slices of
     * ar (so that the caller can put them on cache lines and apart from each other, see Scan.backward): step j's
     * states before and after at hsOff + j·n·2W and hsOff + (j + 1)·n·2W, its factors at esOff + j·n·2W, dh, A and
     * dA ([N][2W]) at dhOff, atOff, dAOff, the lane partials at accOff.
     */
    static void chunkPair(float[][] io, int[] ix, boolean assign, int len, int n) {
        int nd = 2 * W, m = len * nd;
        float[] t = CHUNK.get(0, 4 * m + 16);
        int g = CacheLines.floatsToLine(t), dui = g + m, dd = dui + m, duo = dd + m;   // [len][2W] each
        pairInputs(io, ix, assign, t, g, dui, len);
        pairStates(io, ix, t, g, dui, dd, duo, len, n);
        pairOutputs(io, ix, assign, t, dd, duo, len);
        float[] ar = io[13];
        int accOff = ix[11], cb = len * n * W;
        laneSums(ar, accOff + cb, len * n, io[17], ix[5]);
        laneSums(ar, accOff, len * n, io[16], ix[5]);
    }

    /** Per thread, chunkPair's four [len][2W] rows between its passes: g, du's start, dDelta and duAcc. */
    private static final Scratch CHUNK = new Scratch(1);

    /** chunkPair's per-step g (to t[g + j·2W]) and du's start g·D (to t[dui + j·2W]), dz and pD: stepInputs' work. */
    private static void pairInputs(float[][] io, int[] ix, boolean assign, float[] t, int g, int dui, int len) {
        float[] dout = io[0], z = io[1], dz = io[2], us = io[5], ys = io[6], sig = io[7], dSkip = io[10], pD = io[11];
        int rowI0 = ix[0], d = ix[1], d0 = ix[2], pd0 = ix[3], nd = 2 * W;
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int j = len - 1; j >= 0; j--) {
            int i0 = rowI0 + j * d, jd = j * nd;
            FloatVector ds0 = FloatVector.fromArray(F, dSkip, d0), ds1 = FloatVector.fromArray(F, dSkip, d0 + W);
            FloatVector u0 = FloatVector.fromArray(F, us, jd), u1 = FloatVector.fromArray(F, us, jd + W);
            FloatVector sv0 = FloatVector.fromArray(F, sig, jd), sv1 = FloatVector.fromArray(F, sig, jd + W);
            FloatVector x0 = FloatVector.fromArray(F, z, i0), x1 = FloatVector.fromArray(F, z, i0 + W);
            FloatVector o0 = FloatVector.fromArray(F, dout, i0), o1 = FloatVector.fromArray(F, dout, i0 + W);
            FloatVector y0 = FloatVector.fromArray(F, ys, jd).add(ds0.mul(u0));
            FloatVector y1 = FloatVector.fromArray(F, ys, jd + W).add(ds1.mul(u1));
            FloatVector gz0 = o0.mul(y0).mul(sv0.mul(one.add(x0.mul(one.sub(sv0)))));
            FloatVector gz1 = o1.mul(y1).mul(sv1.mul(one.add(x1.mul(one.sub(sv1)))));
            if (assign) {
                gz0.intoArray(dz, i0);
                gz1.intoArray(dz, i0 + W);
            } else {
                FloatVector.fromArray(F, dz, i0).add(gz0).intoArray(dz, i0);
                FloatVector.fromArray(F, dz, i0 + W).add(gz1).intoArray(dz, i0 + W);
            }
            FloatVector g0 = o0.mul(x0.mul(sv0)), g1 = o1.mul(x1.mul(sv1));
            g0.intoArray(t, g + jd);
            g1.intoArray(t, g + jd + W);
            g0.mul(ds0).intoArray(t, dui + jd);
            g1.mul(ds1).intoArray(t, dui + jd + W);
            FloatVector.fromArray(F, pD, pd0).add(g0.mul(u0)).intoArray(pD, pd0);
            FloatVector.fromArray(F, pD, pd0 + W).add(g1.mul(u1)).intoArray(pD, pd0 + W);
        }
    }

    /** chunkPair's recurrence, newest step first: adjointPair's loop; dDelta to t[dd + j·2W], duAcc to t[duo + j·2W]. */
    private static void pairStates(float[][] io, int[] ix, float[] t, int g, int dui, int dd, int duo, int len, int n) {
        float[] us = io[5], dls = io[8], ar = io[13], bm = io[14], cm = io[15];
        int rb0 = ix[4], hsOff = ix[6], esOff = ix[7], dhOff = ix[8], atOff = ix[9], dAOff = ix[10], accOff = ix[11];
        int nd = 2 * W, sz = n * nd, cb = len * n * W;   // C's partials after B's
        float[] hs = ar, es = ar, dh = ar, at = ar, dA = ar, acc = ar;
        FloatVector zero = FloatVector.zero(F);
        for (int j = len - 1; j >= 0; j--) {
            int jd = j * nd, rb = rb0 + j * n, ab = accOff + j * n * W;
            int prev = hsOff + j * sz, cur = prev + sz, eb = esOff + j * sz;
            FloatVector g0 = FloatVector.fromArray(F, t, g + jd), g1 = FloatVector.fromArray(F, t, g + jd + W);
            FloatVector u0 = FloatVector.fromArray(F, us, jd), u1 = FloatVector.fromArray(F, us, jd + W);
            FloatVector du0 = FloatVector.fromArray(F, t, dui + jd), du1 = FloatVector.fromArray(F, t, dui + jd + W);
            FloatVector dl0 = FloatVector.fromArray(F, dls, jd), dl1 = FloatVector.fromArray(F, dls, jd + W);
            FloatVector dd0 = zero, dd1 = zero;
            for (int s = 0; s < n; s++) {
                int i = s * nd, ai = ab + s * W, ih = dhOff + i, ia = atOff + i, iA = dAOff + i;
                FloatVector bsv = FloatVector.broadcast(F, bm[rb + s]), csv = FloatVector.broadcast(F, cm[rb + s]);
                FloatVector ex0 = FloatVector.fromArray(F, es, eb + i), ex1 = FloatVector.fromArray(F, es, eb + i + W);
                g1.fma(FloatVector.fromArray(F, hs, cur + i + W), g0.fma(FloatVector.fromArray(F, hs, cur + i), zero))
                        .intoArray(acc, ai + cb);
                FloatVector dhn0 = g0.fma(csv, FloatVector.fromArray(F, dh, ih));
                FloatVector dhn1 = g1.fma(csv, FloatVector.fromArray(F, dh, ih + W));
                FloatVector ddA0 = dhn0.mul(FloatVector.fromArray(F, hs, prev + i)).mul(ex0);
                FloatVector ddA1 = dhn1.mul(FloatVector.fromArray(F, hs, prev + i + W)).mul(ex1);
                dd0 = ddA0.fma(FloatVector.fromArray(F, at, ia), dhn0.mul(bsv).fma(u0, dd0));
                dd1 = ddA1.fma(FloatVector.fromArray(F, at, ia + W), dhn1.mul(bsv).fma(u1, dd1));
                ddA0.fma(dl0, FloatVector.fromArray(F, dA, iA)).intoArray(dA, iA);
                ddA1.fma(dl1, FloatVector.fromArray(F, dA, iA + W)).intoArray(dA, iA + W);
                FloatVector t0 = dhn0.mul(dl0), t1 = dhn1.mul(dl1);
                t1.fma(u1, t0.fma(u0, zero)).intoArray(acc, ai);
                du0 = t0.fma(bsv, du0);
                du1 = t1.fma(bsv, du1);
                dhn0.mul(ex0).intoArray(dh, ih);
                dhn1.mul(ex1).intoArray(dh, ih + W);
            }
            dd0.intoArray(t, dd + jd);
            dd1.intoArray(t, dd + jd + W);
            du0.intoArray(t, duo + jd);
            du1.intoArray(t, duo + jd + W);
        }
    }

    /** chunkPair's per-step outputs, newest step first: stepOutputs' work from t[dd + j·2W] and t[duo + j·2W]. */
    private static void pairOutputs(float[][] io, int[] ix, boolean assign, float[] t, int dd, int duo, int len) {
        float[] du = io[3], ddelta = io[4], sgs = io[9], pBias = io[12];
        int rowI0 = ix[0], d = ix[1], pd0 = ix[3], nd = 2 * W;
        for (int j = len - 1; j >= 0; j--) {
            int i0 = rowI0 + j * d, jd = j * nd;
            FloatVector du0 = FloatVector.fromArray(F, t, duo + jd), du1 = FloatVector.fromArray(F, t, duo + jd + W);
            if (assign) {
                du0.intoArray(du, i0);
                du1.intoArray(du, i0 + W);
            } else {
                FloatVector.fromArray(F, du, i0).add(du0).intoArray(du, i0);
                FloatVector.fromArray(F, du, i0 + W).add(du1).intoArray(du, i0 + W);
            }
            FloatVector e0 = FloatVector.fromArray(F, t, dd + jd).mul(FloatVector.fromArray(F, sgs, jd));
            FloatVector e1 = FloatVector.fromArray(F, t, dd + jd + W).mul(FloatVector.fromArray(F, sgs, jd + W));
            if (assign) {
                e0.intoArray(ddelta, i0);
                e1.intoArray(ddelta, i0 + W);
            } else {
                FloatVector.fromArray(F, ddelta, i0).add(e0).intoArray(ddelta, i0);
                FloatVector.fromArray(F, ddelta, i0 + W).add(e1).intoArray(ddelta, i0 + W);
            }
            FloatVector.fromArray(F, pBias, pd0).add(e0).intoArray(pBias, pd0);
            FloatVector.fromArray(F, pBias, pd0 + W).add(e1).intoArray(pBias, pd0 + W);
        }
    }

    /*
     * The adjoint's sums over channels (per state, for dB and dC) end as one vector of lane partials per state; their
     * lanes are summed as a halving tree, t[p] + t[p + h] for h = W/2, W/4, …, 1. Sixteen states at a time (on
     * AVX-512; eight on AVX2) that is a butterfly network over the states' vectors: at distance h, two vectors c, d
     * become c's partials where lane bit h is clear and d's where it is set, c.blend(d) + d.blend(c) flipped by h,
     * so after log2 W levels lane s holds state s's sum. Adds are commutative in IEEE arithmetic, so each lane is
     * the same tree, in the same order, as treeSum's loop. Why not reduceLanes: C2 sums a float vector's lanes one
     * at a time in order (the scalar loop's rounding), 16 dependent adds and their extracts; two per state and step
     * were about a third of the adjoint. The tree costs a tenth of the instructions.
     */
    private static final VectorMask<Float> H1 = laneBit(W / 2), H2 = laneBit(W / 4), H3 = laneBit(W / 8),
            H4 = laneBit(W / 16);
    private static final VectorShuffle<Float> X1 = flip(W / 2), X2 = flip(W / 4), X3 = flip(W / 8), X4 = flip(W / 16);
    private static final Scratch TREE = new Scratch(1);

    private static VectorMask<Float> laneBit(int h) {
        boolean[] m = new boolean[W];
        for (int i = 0; i < W; i++) m[i] = h > 0 && (i & h) != 0;
        return VectorMask.fromArray(F, m, 0);
    }

    private static VectorShuffle<Float> flip(int h) {
        int[] x = new int[W];
        for (int i = 0; i < W; i++) x[i] = h > 0 ? i ^ h : i;
        return VectorShuffle.fromArray(F, x, 0);
    }

    /** dst[dOff + s] = the lanes of the vector at acc[off + s·W] summed as {@link #treeSum}, for s < n. */
    static void laneSums(float[] acc, int off, int n, float[] dst, int dOff) {
        int s = 0;
        if (W == 16) for (; s + 16 <= n; s += 16) laneSums16(acc, off + s * W, dst, dOff + s);
        else if (W == 8) for (; s + 8 <= n; s += 8) laneSums8(acc, off + s * W, dst, dOff + s);
        for (; s < n; s++) dst[dOff + s] = treeSum(acc, off + s * W);
    }

    /** The halving tree over the W floats at a[off]: the definition of {@link #laneSums}' lanes. */
    static float treeSum(float[] a, int off) {
        float[] t = TREE.get(0, W);
        System.arraycopy(a, off, t, 0, W);
        for (int h = W / 2; h >= 1; h /= 2)
            for (int p = 0; p < h; p++) t[p] = t[p] + t[p + h];
        return t[0];
    }

    /** Sixteen states' sums ({@link #laneSums} where W is 16); written out, so every vector stays in a register. */
    private static void laneSums16(float[] acc, int b, float[] dst, int d) {
        FloatVector x0 = FloatVector.fromArray(F, acc, b), y0 = FloatVector.fromArray(F, acc, b + 8 * W);
        FloatVector x1 = FloatVector.fromArray(F, acc, b + W), y1 = FloatVector.fromArray(F, acc, b + 9 * W);
        FloatVector x2 = FloatVector.fromArray(F, acc, b + 2 * W), y2 = FloatVector.fromArray(F, acc, b + 10 * W);
        FloatVector x3 = FloatVector.fromArray(F, acc, b + 3 * W), y3 = FloatVector.fromArray(F, acc, b + 11 * W);
        FloatVector x4 = FloatVector.fromArray(F, acc, b + 4 * W), y4 = FloatVector.fromArray(F, acc, b + 12 * W);
        FloatVector x5 = FloatVector.fromArray(F, acc, b + 5 * W), y5 = FloatVector.fromArray(F, acc, b + 13 * W);
        FloatVector x6 = FloatVector.fromArray(F, acc, b + 6 * W), y6 = FloatVector.fromArray(F, acc, b + 14 * W);
        FloatVector x7 = FloatVector.fromArray(F, acc, b + 7 * W), y7 = FloatVector.fromArray(F, acc, b + 15 * W);
        FloatVector a0 = x0.blend(y0, H1).add(y0.blend(x0, H1).rearrange(X1));
        FloatVector a1 = x1.blend(y1, H1).add(y1.blend(x1, H1).rearrange(X1));
        FloatVector a2 = x2.blend(y2, H1).add(y2.blend(x2, H1).rearrange(X1));
        FloatVector a3 = x3.blend(y3, H1).add(y3.blend(x3, H1).rearrange(X1));
        FloatVector a4 = x4.blend(y4, H1).add(y4.blend(x4, H1).rearrange(X1));
        FloatVector a5 = x5.blend(y5, H1).add(y5.blend(x5, H1).rearrange(X1));
        FloatVector a6 = x6.blend(y6, H1).add(y6.blend(x6, H1).rearrange(X1));
        FloatVector a7 = x7.blend(y7, H1).add(y7.blend(x7, H1).rearrange(X1));
        FloatVector b0 = a0.blend(a4, H2).add(a4.blend(a0, H2).rearrange(X2));
        FloatVector b1 = a1.blend(a5, H2).add(a5.blend(a1, H2).rearrange(X2));
        FloatVector b2 = a2.blend(a6, H2).add(a6.blend(a2, H2).rearrange(X2));
        FloatVector b3 = a3.blend(a7, H2).add(a7.blend(a3, H2).rearrange(X2));
        FloatVector c0 = b0.blend(b2, H3).add(b2.blend(b0, H3).rearrange(X3));
        FloatVector c1 = b1.blend(b3, H3).add(b3.blend(b1, H3).rearrange(X3));
        c0.blend(c1, H4).add(c1.blend(c0, H4).rearrange(X4)).intoArray(dst, d);
    }

    /** Eight states' sums ({@link #laneSums} where W is 8). */
    private static void laneSums8(float[] acc, int b, float[] dst, int d) {
        FloatVector x0 = FloatVector.fromArray(F, acc, b), y0 = FloatVector.fromArray(F, acc, b + 4 * W);
        FloatVector x1 = FloatVector.fromArray(F, acc, b + W), y1 = FloatVector.fromArray(F, acc, b + 5 * W);
        FloatVector x2 = FloatVector.fromArray(F, acc, b + 2 * W), y2 = FloatVector.fromArray(F, acc, b + 6 * W);
        FloatVector x3 = FloatVector.fromArray(F, acc, b + 3 * W), y3 = FloatVector.fromArray(F, acc, b + 7 * W);
        FloatVector a0 = x0.blend(y0, H1).add(y0.blend(x0, H1).rearrange(X1));
        FloatVector a1 = x1.blend(y1, H1).add(y1.blend(x1, H1).rearrange(X1));
        FloatVector a2 = x2.blend(y2, H1).add(y2.blend(x2, H1).rearrange(X1));
        FloatVector a3 = x3.blend(y3, H1).add(y3.blend(x3, H1).rearrange(X1));
        FloatVector b0 = a0.blend(a2, H2).add(a2.blend(a0, H2).rearrange(X2));
        FloatVector b1 = a1.blend(a3, H2).add(a3.blend(a1, H2).rearrange(X2));
        b0.blend(b1, H3).add(b1.blend(b0, H3).rearrange(X3)).intoArray(dst, d);
    }

    /**
     * The backward's per-step inputs to the adjoint (ScanSimd.stepInputs; its plain loop, the definition, is in
     * Scan.backward): per channel, g = ∂L/∂y through the z gate (dz accumulated), u copied, dDelta zeroed,
     * duAcc = g·D, pD += g·u; the same multiplies and adds in the same order as that loop, so the same bits.
     */
    static void stepInputs(float[] dout, float[] z, float[] dz, boolean assign, int i0, float[] us, float[] ys,
                           float[] sig, int jd, float[] dSkip, int d0, float[] pD, int pd0, float[] g, float[] uu,
                           float[] dDelta, float[] duAcc, int nd) {
        int vec = F.loopBound(nd), o = 0;
        boolean hasD = dSkip != null, gate = sig != null;
        FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
        for (; o < vec; o += W) {
            FloatVector gg = FloatVector.fromArray(F, dout, i0 + o), u = FloatVector.fromArray(F, us, jd + o);
            FloatVector ds = hasD ? FloatVector.fromArray(F, dSkip, d0 + o) : zero;
            u.intoArray(uu, o);
            if (gate) {
                FloatVector ypre = FloatVector.fromArray(F, ys, jd + o).add(hasD ? ds.mul(u) : zero);
                FloatVector sv = FloatVector.fromArray(F, sig, jd + o), x = FloatVector.fromArray(F, z, i0 + o);
                if (dz != null) {
                    FloatVector gz = gg.mul(ypre).mul(sv.mul(one.add(x.mul(one.sub(sv)))));
                    (assign ? gz : FloatVector.fromArray(F, dz, i0 + o).add(gz)).intoArray(dz, i0 + o);
                }
                gg = gg.mul(x.mul(sv));
            }
            gg.intoArray(g, o);
            zero.intoArray(dDelta, o);
            if (hasD) {
                gg.mul(ds).intoArray(duAcc, o);
                if (pD != null) FloatVector.fromArray(F, pD, pd0 + o).add(gg.mul(u)).intoArray(pD, pd0 + o);
            } else {
                zero.intoArray(duAcc, o);
            }
        }
        for (; o < nd; o++) {
            int i = i0 + o;
            float gg = dout[i];
            uu[o] = us[jd + o];
            if (gate) {
                float ypre = ys[jd + o] + (hasD ? dSkip[d0 + o] * uu[o] : 0f);
                float sv = sig[jd + o], x = z[i];
                float gz = gg * ypre * (sv * (1f + x * (1f - sv)));
                if (dz != null) dz[i] = assign ? gz : dz[i] + gz;
                gg *= x * sv;
            }
            g[o] = gg;
            dDelta[o] = 0f;
            duAcc[o] = 0f;
            if (hasD) {
                duAcc[o] = gg * dSkip[d0 + o];
                if (pD != null) pD[pd0 + o] += gg * uu[o];
            }
        }
    }

    /** After the adjoint (ScanSimd.stepOutputs): du += duAcc; dd1 = dDelta (·sgs with softplus); ddelta, pBias += dd1 (assign: du, ddelta =). */
    static void stepOutputs(float[] du, float[] ddelta, boolean assign, int i0, float[] duAcc, float[] dDelta,
                            float[] sgs, int jd, float[] pBias, int pb0, int nd) {
        int vec = F.loopBound(nd), o = 0;
        for (; o < vec; o += W) {
            if (du != null) {
                FloatVector a = FloatVector.fromArray(F, duAcc, o);
                (assign ? a : FloatVector.fromArray(F, du, i0 + o).add(a)).intoArray(du, i0 + o);
            }
            FloatVector dd1 = FloatVector.fromArray(F, dDelta, o);
            if (sgs != null) dd1 = dd1.mul(FloatVector.fromArray(F, sgs, jd + o));
            if (ddelta != null) (assign ? dd1 : FloatVector.fromArray(F, ddelta, i0 + o).add(dd1)).intoArray(ddelta, i0 + o);
            if (pBias != null) FloatVector.fromArray(F, pBias, pb0 + o).add(dd1).intoArray(pBias, pb0 + o);
        }
        for (; o < nd; o++) {
            if (du != null) du[i0 + o] = assign ? duAcc[o] : du[i0 + o] + duAcc[o];
            float dd1 = dDelta[o];
            if (sgs != null) dd1 *= sgs[jd + o];
            if (ddelta != null) ddelta[i0 + o] = assign ? dd1 : ddelta[i0 + o] + dd1;
            if (pBias != null) pBias[pb0 + o] += dd1;
        }
    }

    /** ScanSimd.biasRows: delta's rows plus the bias, vectors over channels, the channels past them as scalars. */
    static void biasRows(float[] dls, float[] delta, float[] dBias, int rowI0, int d, int d0, int nd, int len) {
        int vec = F.loopBound(nd);
        for (int j = 0; j < len; j++) {
            int i0 = rowI0 + j * d, jb = j * nd, o = 0;
            for (; o < vec; o += W) {
                FloatVector v = FloatVector.fromArray(F, delta, i0 + o);
                if (dBias != null) v = v.add(FloatVector.fromArray(F, dBias, d0 + o));
                v.intoArray(dls, jb + o);
            }
            for (; o < nd; o++) dls[jb + o] = delta[i0 + o] + (dBias == null ? 0f : dBias[d0 + o]);
        }
    }

    /** ScanSimd.outputs: (y + D·u)·(z·σ(z)) per step and channel, vectors over channels, then the rest as scalars. */
    static void outputs(float[] out, float[] z, int rowI0, int d, float[] ys, float[] us, float[] sig, float[] dSkip,
                        int d0, int nd, int len) {
        int vec = F.loopBound(nd);
        for (int j = 0; j < len; j++) {
            int i0 = rowI0 + j * d, jb = j * nd, o = 0;
            for (; o < vec; o += W) {
                FloatVector v = FloatVector.fromArray(F, ys, jb + o);
                if (dSkip != null)
                    v = v.add(FloatVector.fromArray(F, dSkip, d0 + o).mul(FloatVector.fromArray(F, us, jb + o)));
                if (sig != null)
                    v = v.mul(FloatVector.fromArray(F, z, i0 + o).mul(FloatVector.fromArray(F, sig, jb + o)));
                v.intoArray(out, i0 + o);
            }
            for (; o < nd; o++) {
                float v = ys[jb + o];
                if (dSkip != null) v += dSkip[d0 + o] * us[jb + o];
                if (sig != null) v *= z[i0 + o] * sig[jb + o];
                out[i0 + o] = v;
            }
        }
    }
}
