package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ScanSimd} on the Vector API. No method here takes or returns a vector (see ScanSimd for why): the exp
 * polynomial is written out once, in {@link #exp}, and the other ops reach it through arrays (their own output
 * row or a scratch row). The constants and operations are those of VectorOps.expV and VectorOps.softplusV, in
 * the same order, so exp and softplus give the bits Simd's do.
 */
final class ScanVectorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int W = F.length();
    /** Scratch rows are cut to this many floats (16 KiB), so a call allocates little whatever n is. */
    private static final int PIECE = 4096;

    private static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365478515625f;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUNDER = 12582912f;   // 1.5·2^23: adding it rounds to an integer in the low bits
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private static final float SQRT_HALF = 0.707106781186547524f, SOFTPLUS_THRESHOLD = 20f;
    private static final float L0 = 7.0376836292e-2f, L1 = -1.1514610310e-1f, L2 = 1.1676998740e-1f,
            L3 = -1.2420140846e-1f, L4 = 1.4249322787e-1f, L5 = -1.6668057665e-1f, L6 = 2.0000714765e-1f,
            L7 = -2.4999993993e-1f, L8 = 3.3333331174e-1f;
    /** 2^23 as float bits: (bits | k) − 2^23 is k as a float for 0 <= k < 2^23, without an int-to-float convert. */
    private static final int TWO23_BITS = 0x4B000000;
    private static final float TWO23 = 8388608f;

    private ScanVectorOps() {
    }

    // Cephes expf: x = k·ln2 + r, 1 + r + r²·p(r), times 2^k from exponent bits; input clamped to float's range.
    static void exp(float[] a, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += W) {
            FloatVector x = FloatVector.fromArray(F, a, off + i).max(EXP_LO).min(EXP_HI);
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
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
            e.mul(bits.reinterpretAsFloats()).intoArray(a, off + i);
        }
        for (; i < n; i++) a[off + i] = expS(a[off + i]);
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
     * softplus(x) = log1p(exp(x)) for x <= 20, else x. With y = exp(x) and u = 1 + y rounded, log1p(y) = log(u) +
     * (y − (u − 1))/u; log(u) = log(m) + e·ln2, m in [√½, √2), Cephes logf's polynomial in m − 1. The exponent
     * e reaches float through the 2^23 bit trick (exact for these small integers) rather than an int-to-float
     * convert, which C2 in Java 17 does not always intrinsify; the values are those of VectorOps.softplusV.
     */
    static void softplus(float[] a, int off, int n) {
        float[] y = new float[Math.min(n, PIECE)];
        for (int p0 = 0; p0 < n; p0 += PIECE) {
            int len = Math.min(PIECE, n - p0), base = off + p0;
            System.arraycopy(a, base, y, 0, len);
            exp(y, 0, len);
            int i = 0;
            for (int up = F.loopBound(len); i < up; i += W) {
                FloatVector x = FloatVector.fromArray(F, a, base + i), yv = FloatVector.fromArray(F, y, i);
                FloatVector u = yv.add(1f);
                FloatVector corr = yv.sub(u.sub(1f)).div(u);
                IntVector bits = u.reinterpretAsInts();
                FloatVector m = bits.and(0x007fffff).or(0x3f000000).reinterpretAsFloats();
                FloatVector fe = bits.lanewise(VectorOperators.LSHR, 23).or(TWO23_BITS).reinterpretAsFloats()
                        .sub(TWO23).sub(126f);
                VectorMask<Float> small = m.compare(VectorOperators.LT, SQRT_HALF);   // then m ← 2m, e ← e − 1
                FloatVector zero = FloatVector.zero(F);
                fe = fe.sub(zero.blend(FloatVector.broadcast(F, 1f), small));
                FloatVector r = m.add(zero.blend(m, small)).sub(1f);
                FloatVector z = r.mul(r);
                FloatVector p = FloatVector.broadcast(F, L0).fma(r, FloatVector.broadcast(F, L1));
                p = p.fma(r, FloatVector.broadcast(F, L2));
                p = p.fma(r, FloatVector.broadcast(F, L3));
                p = p.fma(r, FloatVector.broadcast(F, L4));
                p = p.fma(r, FloatVector.broadcast(F, L5));
                p = p.fma(r, FloatVector.broadcast(F, L6));
                p = p.fma(r, FloatVector.broadcast(F, L7));
                p = p.fma(r, FloatVector.broadcast(F, L8));
                FloatVector q = p.mul(r).mul(z);
                q = fe.fma(FloatVector.broadcast(F, LN2_LO), q);
                q = z.fma(FloatVector.broadcast(F, -0.5f), q);
                FloatVector sp = fe.fma(FloatVector.broadcast(F, LN2_HI), r.add(q)).add(corr);
                x.blend(sp, x.compare(VectorOperators.LE, SOFTPLUS_THRESHOLD)).intoArray(a, base + i);
            }
            for (; i < len; i++) a[base + i] = softplusS(a[base + i], y[i]);
        }
    }

    /** One lane of {@link #softplus}, given y = exp(x): the same operations in the same order. */
    private static float softplusS(float x, float y) {
        if (!(x <= SOFTPLUS_THRESHOLD)) return x;
        float u = y + 1f;
        float corr = (y - (u - 1f)) / u;
        int bits = Float.floatToRawIntBits(u);
        float m = Float.intBitsToFloat((bits & 0x007fffff) | 0x3f000000);
        float fe = (Float.intBitsToFloat((bits >>> 23) | TWO23_BITS) - TWO23) - 126f;
        boolean small = m < SQRT_HALF;
        fe = fe - (small ? 1f : 0f);
        float r = (m + (small ? m : 0f)) - 1f;
        float z = r * r;
        float p = Math.fma(L0, r, L1);
        p = Math.fma(p, r, L2);
        p = Math.fma(p, r, L3);
        p = Math.fma(p, r, L4);
        p = Math.fma(p, r, L5);
        p = Math.fma(p, r, L6);
        p = Math.fma(p, r, L7);
        p = Math.fma(p, r, L8);
        float q = p * r * z;
        q = Math.fma(fe, LN2_LO, q);
        q = Math.fma(z, -0.5f, q);
        return Math.fma(fe, LN2_HI, r + q) + corr;
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
        float[] s = new float[Math.min(n, PIECE)];
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

    static void decays(float[] e, int eb, float[] dls, float[] at, int len, int nd, int n) {
        int sz = n * nd, vec = nd - nd % W;
        for (int j = 0; j < len; j++) {
            int jb = eb + j * sz, db = j * nd;
            for (int o = 0; o < vec; o += W) {
                FloatVector dv = FloatVector.fromArray(F, dls, db + o);
                for (int s = 0; s < n; s++)
                    dv.mul(FloatVector.fromArray(F, at, s * nd + o)).intoArray(e, jb + s * nd + o);
            }
            for (int o = vec; o < nd; o++)
                for (int s = 0; s < n; s++) e[jb + s * nd + o] = dls[db + o] * at[s * nd + o];
        }
        exp(e, eb, len * sz);
    }

    static void recur(float[] e, float[] hs, boolean keep, float[] dls, float[] us, float[] bm, float[] cm, int rb,
                      float[] ys, int len, int nd, int n) {
        int sz = n * nd, vec = nd - nd % W;
        for (int j = 0; j < len; j++) {
            int eb = j * sz, hi = keep ? j * sz : 0, ho = keep ? hi + sz : 0, rj = rb + j * n, db = j * nd;
            for (int o = 0; o < vec; o += W) {
                FloatVector dub = FloatVector.fromArray(F, dls, db + o).mul(FloatVector.fromArray(F, us, db + o));
                FloatVector y = FloatVector.zero(F);
                for (int s = 0; s < n; s++) {
                    int i = s * nd + o;
                    FloatVector v = FloatVector.fromArray(F, e, eb + i)
                            .fma(FloatVector.fromArray(F, hs, hi + i), dub.mul(bm[rj + s]));
                    v.intoArray(hs, ho + i);
                    y = v.fma(FloatVector.broadcast(F, cm[rj + s]), y);
                }
                y.intoArray(ys, db + o);
            }
            for (int o = vec; o < nd; o++) {
                float dub = dls[db + o] * us[db + o], y = 0f;
                for (int s = 0; s < n; s++) {
                    int i = s * nd + o;
                    float v = Math.fma(e[eb + i], hs[hi + i], dub * bm[rj + s]);
                    hs[ho + i] = v;
                    y = Math.fma(v, cm[rj + s], y);
                }
                ys[db + o] = y;
            }
        }
    }
}
