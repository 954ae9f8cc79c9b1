package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector GELU of {@link Simd#geluForward} and {@link Simd#geluBackward}: erf in float (N. Juffa's minimax
 * polynomials, as Erf.erf(float)) with both branches computed and blended, and the polynomial exp of
 * VectorOps.expV (the same constants and operations). As in {@link ScanSimd}, no method here takes or returns a
 * vector: each loop has its erf and exp written out. (When erf and exp were vector helpers, C2 sometimes compiled
 * a helper on its own first and then called it from the loop, boxing every vector: the GELU gradient allocated
 * 24 MB a training step and took 3–4× its time.) The scalar tails (erfS, VectorOps.expS) do the same operations
 * in the same order, so the bits do not depend on where the vector body ends or on the JIT tier.
 */
final class GeluVectorOps {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final VectorSpecies<Integer> I = VectorWidth.INT;
    private static final int W = F.length();
    /** Elements per pass, so a block's cdf stays in L1 between its two passes. */
    private static final int BLOCK = 512;

    private static final float INV_SQRT2 = (float) (1 / Math.sqrt(2)), INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));
    private static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365478515625f;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private GeluVectorOps() {
    }

    private static final Scratch CDF = new Scratch(1);

    /** out = x·Φ(x) = x·cdf(x), per block: the cdf into scratch, then the product (out may be in). */
    static void forward(float[] out, int oo, float[] in, int io, int n) {
        float[] c = CDF.get(0, Math.min(n, BLOCK));
        for (int b0 = 0; b0 < n; b0 += BLOCK) {
            int nb = Math.min(BLOCK, n - b0), i = 0;
            cdf(c, 0, in, io + b0, nb);
            for (int up = F.loopBound(nb); i < up; i += W)
                FloatVector.fromArray(F, in, io + b0 + i).mul(FloatVector.fromArray(F, c, i)).intoArray(out, oo + b0 + i);
            for (; i < nb; i++) out[oo + b0 + i] = in[io + b0 + i] * c[i];
        }
    }

    /** din += dout·(cdf(x) + x·pdf(x)), per block: the cdf into scratch, then the rest. */
    static void backward(float[] din, int dio, float[] dout, int doo, float[] in, int io, int n) {
        float[] c = CDF.get(0, Math.min(n, BLOCK));
        for (int b0 = 0; b0 < n; b0 += BLOCK) {
            int nb = Math.min(BLOCK, n - b0);
            cdf(c, 0, in, io + b0, nb);
            grad(din, dio + b0, dout, doo + b0, in, io + b0, c, nb);
        }
    }

    /**
     * dst = (erf(x/√2) + 1)·0.5. Erf's two branches are blended per lane; the large-|x| branch (a polynomial and an
     * exp, about three quarters of the loop's work) runs only for vectors with a lane above the threshold. GELU's
     * inputs sit mostly in |x| <= 1.31 (at the quickstart's init and early steps no lane at all leaves it), and a
     * lane takes the small branch's value whether or not the other branch ran, so the bits do not depend on it.
     */
    private static void cdf(float[] dst, int dOff, float[] in, int io, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += W) {
            FloatVector a = FloatVector.fromArray(F, in, io + i).mul(INV_SQRT2);
            FloatVector t = a.abs(), s = a.mul(a);
            FloatVector q = s.fma(-5.96761703e-4f, 4.99119423e-3f);
            q = q.fma(s, FloatVector.broadcast(F, -2.67681349e-2f));
            q = q.fma(s, FloatVector.broadcast(F, 1.12819925e-1f));
            q = q.fma(s, FloatVector.broadcast(F, -3.76125336e-1f));
            q = q.fma(s, FloatVector.broadcast(F, 1.28379166e-1f));
            FloatVector erf = q.fma(a, a);
            VectorMask<Float> large = t.compare(VectorOperators.GT, 0.927734375f);
            if (large.anyTrue()) {
                FloatVector r = t.fma(-1.72853470e-5f, 3.83197126e-4f);
                FloatVector u = t.fma(-3.88396438e-3f, 2.42546219e-2f);
                r = r.fma(s, u);
                r = r.fma(t, FloatVector.broadcast(F, -1.06777877e-1f));
                r = r.fma(t, FloatVector.broadcast(F, -6.34846687e-1f));
                r = r.fma(t, FloatVector.broadcast(F, -1.28717512e-1f));
                r = r.fma(t, t.neg());
                // exp(r), as VectorOps.expV. r <= 0 wherever the lane is used (t > 0.93: r = t·(P(t) − 1) with
                // P < 0), so expV's upper clamp is the identity there; the lower one is a compare and blend, the
                // same values as max (NaN compares false and stays NaN) at a third of C2's max on AVX2.
                FloatVector x = r.blend(EXP_LO, r.compare(VectorOperators.LT, EXP_LO));
                FloatVector e2 = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
                FloatVector k = e2.sub(ROUNDER);
                FloatVector y = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
                y = k.fma(FloatVector.broadcast(F, -LN2_LO), y);
                FloatVector p = FloatVector.broadcast(F, P0).fma(y, FloatVector.broadcast(F, P1));
                p = p.fma(y, FloatVector.broadcast(F, P2));
                p = p.fma(y, FloatVector.broadcast(F, P3));
                p = p.fma(y, FloatVector.broadcast(F, P4));
                p = p.fma(y, FloatVector.broadcast(F, P5));
                FloatVector e = p.mul(y).fma(y, y).add(1f);
                IntVector bits = e2.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                        .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
                FloatVector big = FloatVector.broadcast(F, 1f).sub(e.mul(bits.reinterpretAsFloats()));
                big = big.reinterpretAsInts().and(0x7fffffff).or(a.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
                erf = erf.blend(big, large);
            }
            erf.add(1f).mul(0.5f).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] = (erfS(in[io + i] * INV_SQRT2) + 1f) * 0.5f;
    }

    private static void grad(float[] din, int dio, float[] dout, int doo, float[] in, int io, float[] c, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += W) {
            FloatVector xv = FloatVector.fromArray(F, in, io + i);
            // pdf = exp(−x²/2)/√(2π), the exp as VectorOps.expV
            // x = −x²/2 <= 0 (or NaN): expV's upper clamp is the identity, the lower one a compare and blend (as cdf)
            FloatVector x = xv.mul(-0.5f).mul(xv);
            x = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO));
            FloatVector e2 = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
            FloatVector k = e2.sub(ROUNDER);
            FloatVector y = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            y = k.fma(FloatVector.broadcast(F, -LN2_LO), y);
            FloatVector p = FloatVector.broadcast(F, P0).fma(y, FloatVector.broadcast(F, P1));
            p = p.fma(y, FloatVector.broadcast(F, P2));
            p = p.fma(y, FloatVector.broadcast(F, P3));
            p = p.fma(y, FloatVector.broadcast(F, P4));
            p = p.fma(y, FloatVector.broadcast(F, P5));
            FloatVector e = p.mul(y).fma(y, y).add(1f);
            IntVector bits = e2.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                    .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            FloatVector pdf = e.mul(bits.reinterpretAsFloats()).mul(INV_SQRT_2PI);
            FloatVector.fromArray(F, dout, doo + i).mul(xv.mul(pdf).add(FloatVector.fromArray(F, c, i)))
                    .add(FloatVector.fromArray(F, din, dio + i)).intoArray(din, dio + i);
        }
        for (; i < n; i++) {
            float x = in[io + i];
            float pdf = VectorOps.expS(-0.5f * x * x) * INV_SQRT_2PI;
            din[dio + i] = dout[doo + i] * (c[i] + x * pdf) + din[dio + i];
        }
    }

    /** The vector erf on one float, the same operations in the same order. */
    static float erfS(float a) {
        float t = Math.abs(a), s = a * a;
        if (t > 0.927734375f) {
            float r = Math.fma(t, -1.72853470e-5f, 3.83197126e-4f);
            float u = Math.fma(t, -3.88396438e-3f, 2.42546219e-2f);
            r = Math.fma(r, s, u);
            r = Math.fma(r, t, -1.06777877e-1f);
            r = Math.fma(r, t, -6.34846687e-1f);
            r = Math.fma(r, t, -1.28717512e-1f);
            r = Math.fma(r, t, -t);
            float big = 1f - VectorOps.expS(r);
            return Float.intBitsToFloat((Float.floatToRawIntBits(big) & 0x7fffffff) | (Float.floatToRawIntBits(a) & 0x80000000));
        }
        float q = Math.fma(s, -5.96761703e-4f, 4.99119423e-3f);
        q = Math.fma(q, s, -2.67681349e-2f);
        q = Math.fma(q, s, 1.12819925e-1f);
        q = Math.fma(q, s, -3.76125336e-1f);
        q = Math.fma(q, s, 1.28379166e-1f);
        return Math.fma(q, a, a);
    }
}
