package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.common.ScanSimd;
import parrot.backend.cpu.common.Simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mamba's vector kernels (ScanSimd): softplus and its derivative within a few ulp of double-precision references,
 * torch's threshold, the exp giving Simd.exp's bits, SiLU and its gradient close to the scalar definitions, and the
 * vector body and scalar tail giving the same bits (so a run's numbers do not depend on where a block ends).
 */
class ScanSimdTest {
    private static final int ULPS = 4;

    private static float ulps(float want, float got) {
        return Math.abs(want - got) / Math.ulp(want);
    }

    private static float[] grid(int n, float lo, float hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * i / (n - 1);
        return x;
    }

    @Test
    void softplusAndItsDerivativeAreCloseToDoubleReferences() {
        float[] x = grid(40009, -80f, 30f);                  // odd: the scalar tail runs too
        float[] special = {20f, Math.nextUp(20f), Math.nextDown(20f), 0f, -0f, 1e-7f, -1e-7f, 17f, -17f, -6.9f, -2.3f};
        System.arraycopy(special, 0, x, 0, special.length);
        float[] y = x.clone(), sg = new float[x.length];
        assertTrue(ScanSimd.softplus(y, sg, 0, x.length), "the tests run with the vector module");
        float worst = 0;
        for (int i = 0; i < x.length; i++) {
            float want = x[i] > 20f ? x[i] : (float) Math.log1p(Math.exp(x[i]));
            float u = ulps(want, y[i]);
            worst = Math.max(worst, u);
            assertTrue(u <= ULPS, "softplus(" + x[i] + ") = " + y[i] + ", want " + want + " (" + u + " ulp)");
            float wantSg = (float) (1 / (1 + Math.exp(-(double) x[i])));
            assertTrue(ulps(wantSg, sg[i]) <= ULPS, "σ(" + x[i] + ") = " + sg[i] + ", want " + wantSg);
        }
        assertEquals(Math.nextUp(20f), y[1], "above 20 softplus is the identity, as in torch");
        assertTrue(worst > 0, "compared against an independent reference");
    }

    @Test
    void softplusOfExtremes() {
        float[] x = {-87f, -100f, Float.NEGATIVE_INFINITY, 1e30f, Float.POSITIVE_INFINITY, Float.NaN};
        float[] y = x.clone();
        ScanSimd.softplus(y, null, 0, y.length);
        // below exp's range the result clamps at float's smallest normal: off by < 1.2e-38 absolute
        for (int i = 0; i < 3; i++)
            assertEquals((float) Math.log1p(Math.exp(x[i])), y[i], 1.2e-38f, "softplus(" + x[i] + ")");
        assertEquals(1e30f, y[3]);
        assertEquals(Float.POSITIVE_INFINITY, y[4]);
        assertTrue(Float.isNaN(y[5]), "NaN stays NaN");
    }

    @Test
    void expIsSimdExp() {
        float[] x = java.util.Arrays.copyOf(grid(1003, -90f, 90f), 1011);
        float[] ends = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -1e4f, 1e4f, -0f, 0f, Float.MIN_VALUE};
        System.arraycopy(ends, 0, x, 1003, ends.length);   // past the clamps, and NaN, as vectors and in the tail
        float[] a = x.clone(), b = x.clone();
        Simd.exp(a, 0, a.length);
        ScanSimd.exp(b, 0, b.length);
        assertArrayEquals(a, b);
    }

    @Test
    void siluAndItsGradientAreCloseToTheScalarDefinitions() {
        float[] x = grid(20011, -40f, 40f), out = new float[x.length], dout = new float[x.length], din = new float[x.length];
        java.util.Arrays.fill(dout, 1f);
        ScanSimd.silu(out, x, 0, x.length);
        ScanSimd.siluBackward(din, dout, x, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            float want = Silu.silu(x[i]), wantG = Silu.siluGrad(x[i]);
            assertEquals(want, out[i], ULPS * Math.ulp(want) + 1e-37f, "silu(" + x[i] + ")");
            // the gradient's 1 − σ cancels for large x: compare at the scale of its terms
            assertEquals(wantG, din[i], 1e-6f * Math.max(1f, Math.abs(x[i])) + 1e-37f, "silu'(" + x[i] + ")");
        }
    }

    @Test
    void vectorBodyAndScalarTailAgreeBitwise() {
        java.util.Random r = new java.util.Random(5);
        float[] x = new float[523];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 10);
        float[] all = x.clone(), allSg = new float[x.length];
        ScanSimd.softplus(all, allSg, 0, x.length);
        float[] sig = x.clone();
        ScanSimd.sigmoid(sig, 0, x.length);
        for (int i = 0; i < x.length; i++) {                    // each element alone: all scalar tail
            float[] one = {x[i]}, oneSg = new float[1], s = {x[i]};
            ScanSimd.softplus(one, oneSg, 0, 1);
            ScanSimd.sigmoid(s, 0, 1);
            assertEquals(all[i], one[0], 0f, "softplus at " + i);
            assertEquals(allSg[i], oneSg[0], 0f, "σ at " + i);
            assertEquals(sig[i], s[0], 0f, "sigmoid at " + i);
        }
    }

    @Test
    void decayFactorsAreCloseToExp() {
        // δ·A over Mamba's ranges (δ = softplus(·) > 0, A = −exp(A_log) < 0) and past exp's clamps
        int nd = 11, n = 7, len = 400, sz = n * nd;
        java.util.Random r = new java.util.Random(9);
        float[] at = new float[sz], dls = new float[len * nd], us = new float[len * nd];
        for (int i = 0; i < sz; i++) at[i] = (float) -Math.exp(r.nextGaussian() * 1.5);
        for (int i = 0; i < len * nd; i++) dls[i] = (float) Math.exp(r.nextGaussian() * 2);
        at[0] = 30f;                                             // positive products, to the upper clamp
        float[] e = new float[len * sz], hs = new float[(len + 1) * sz], ys = new float[len * nd];
        float[] bm = new float[len * n], cm = new float[len * n];
        assertTrue(ScanSimd.advance(at, 0, dls, us, bm, cm, 0, e, 0, hs, 0, true, ys, len, nd, n));
        double worst = 0;
        for (int j = 0; j < len; j++)
            for (int s = 0; s < n; s++)
                for (int o = 0; o < nd; o++) {
                    double x = (double) dls[j * nd + o] * at[s * nd + o], want = Math.exp(x);
                    float got = e[j * sz + s * nd + o];
                    if (x < -87.3) assertEquals(Float.MIN_NORMAL, got, Float.MIN_NORMAL, "exp(" + x + ") clamps");
                    else if (x > 88) assertTrue(got > 1e38f, "exp(" + x + ") clamps high: " + got);
                    else {
                        // rounding δ·A costs |x|·2^−24 of relative error in any float exp(δ·A); allow 2.5 times that
                        double err = Math.abs(got - want) / want, bound = 2.5 * Math.abs(x) * 0x1p-24 + 2 * 0x1p-24;
                        assertTrue(err <= bound, "exp(" + x + ") = " + got + ", relative error " + err);
                        worst = Math.max(worst, err / bound);
                    }
                }
        assertTrue(worst > 0.1, "the bound is not vacuous: " + worst);
    }

    @Test
    void recurrenceMatchesItsDefinitionWithAPartialBlock() {
        // 11 channels: one full vector (8 lanes on AVX2) and a scalar tail, or all tail on narrower machines
        int len = 9, nd = 11, n = 5, sz = n * nd;
        java.util.Random r = new java.util.Random(3);
        float[] at = new float[sz], dls = new float[len * nd], us = new float[len * nd];
        float[] bm = new float[len * n], cm = new float[len * n];
        for (float[] a : new float[][]{at, dls, us, bm, cm})
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        float[] hs = new float[(len + 1) * sz], ys = new float[len * nd], e = new float[len * sz];
        for (int i = 0; i < sz; i++) hs[i] = (float) r.nextGaussian();
        float[] h = java.util.Arrays.copyOf(hs, sz), ys2 = new float[len * nd];
        assertTrue(ScanSimd.advance(at, 0, dls, us, bm, cm, 0, e, 0, hs, 0, true, ys, len, nd, n));
        assertTrue(ScanSimd.advance(at, 0, dls, us, bm, cm, 0, null, 0, h, 0, false, ys2, len, nd, n));
        assertArrayEquals(ys, ys2, "keeping the states does not change y");
        assertArrayEquals(java.util.Arrays.copyOfRange(hs, len * sz, (len + 1) * sz), h, "the last state");
        // A, the factors and the states inside larger arrays (as the fused backward's slices): the same bits
        int ao = 7, eo = 13, ho = 5;
        float[] atO = new float[ao + sz], eO = new float[eo + len * sz + 3], hsO = new float[ho + (len + 1) * sz + 2];
        System.arraycopy(at, 0, atO, ao, sz);
        System.arraycopy(hs, 0, hsO, ho, sz);
        float[] ysO = new float[len * nd];
        assertTrue(ScanSimd.advance(atO, ao, dls, us, bm, cm, 0, eO, eo, hsO, ho, true, ysO, len, nd, n));
        assertArrayEquals(ys, ysO, "y with offsets");
        assertArrayEquals(e, java.util.Arrays.copyOfRange(eO, eo, eo + len * sz), "factors at an offset");
        assertArrayEquals(hs, java.util.Arrays.copyOfRange(hsO, ho, ho + (len + 1) * sz), "states at an offset");
        double[] hd = new double[sz];
        for (int i = 0; i < sz; i++) hd[i] = hs[i];
        for (int j = 0; j < len; j++) {
            for (int o = 0; o < nd; o++) {
                double y = 0;
                for (int s = 0; s < n; s++) {
                    int i = s * nd + o;
                    double ex = Math.exp((double) dls[j * nd + o] * at[i]);
                    assertEquals(ex, e[j * sz + i], 1e-6 * ex, "exp(δ·A) at step " + j);
                    hd[i] = ex * hd[i] + (double) dls[j * nd + o] * us[j * nd + o] * bm[j * n + s];
                    y += cm[j * n + s] * hd[i];
                    assertEquals(hd[i], hs[(j + 1) * sz + i], 1e-4 * (1 + Math.abs(hd[i])), "h at step " + j);
                }
                assertEquals(y, ys[j * nd + o], 1e-4 * (1 + Math.abs(y)), "y at step " + j + ", channel " + o);
            }
        }
    }

    @Test
    void decayVectorsAndScalarTailAgreeBitwise() {
        // the same (δ, A) pairs in a vector lane (8+ channels) and in the scalar tail (1 channel)
        int n = 3, len = 50, wide = 16;
        java.util.Random r = new java.util.Random(4);
        float[] dl1 = new float[len], at1 = new float[n];
        for (int j = 0; j < len; j++) dl1[j] = (float) Math.exp(r.nextGaussian() * 2);
        for (int s = 0; s < n; s++) at1[s] = (float) -Math.exp(r.nextGaussian() * 2);
        float[] dlw = new float[len * wide], atw = new float[n * wide];
        for (int j = 0; j < len; j++) java.util.Arrays.fill(dlw, j * wide, (j + 1) * wide, dl1[j]);
        for (int s = 0; s < n; s++) java.util.Arrays.fill(atw, s * wide, (s + 1) * wide, at1[s]);
        float[] e1 = new float[len * n], ew = new float[len * n * wide];
        ScanSimd.advance(at1, 0, dl1, new float[len], new float[len * n], new float[len * n], 0, e1, 0,
                new float[(len + 1) * n], 0, true, new float[len], len, 1, n);
        ScanSimd.advance(atw, 0, dlw, new float[len * wide], new float[len * n], new float[len * n], 0, ew, 0,
                new float[(len + 1) * n * wide], 0, true, new float[len * wide], len, wide, n);
        for (int j = 0; j < len; j++)
            for (int s = 0; s < n; s++)
                for (int o = 0; o < wide; o++)
                    assertEquals(e1[j * n + s], ew[(j * n + s) * wide + o], 0f, "step " + j + ", state " + s + ", lane " + o);
    }
    @Test
    void skippingTheClampGivesTheClampedBits() {
        // advance drops the clamp of δ·A·log2 e for a step's channel vector when it cannot bite; one lane far past
        // it (δ = 1e6 in channels 0 and 15) sends those vectors through the clamped loop: every other channel must
        // get the same bits either way, and the far lanes the clamp's 2^-126
        int n = 4, len = 30, nd = 16, sz = n * nd;
        java.util.Random r = new java.util.Random(5);
        float[] at = new float[sz], dls = new float[len * nd], us = new float[len * nd];
        float[] bm = new float[len * n], cm = new float[len * n];
        for (int i = 0; i < sz; i++) at[i] = (float) -Math.exp(r.nextGaussian());
        for (int i = 0; i < len * nd; i++) {
            dls[i] = (float) Math.exp(r.nextGaussian() - 2);
            us[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < len * n; i++) {
            bm[i] = (float) r.nextGaussian();
            cm[i] = (float) r.nextGaussian();
        }
        float[] dlsFar = dls.clone();
        for (int j = 0; j < len; j++) {
            dlsFar[j * nd] = 1e6f;
            dlsFar[j * nd + nd - 1] = 1e6f;
        }
        float[] e = new float[len * sz], hs = new float[(len + 1) * sz], ys = new float[len * nd];
        float[] eF = new float[len * sz], hsF = new float[(len + 1) * sz], ysF = new float[len * nd];
        assertTrue(ScanSimd.advance(at, 0, dls, us, bm, cm, 0, e, 0, hs, 0, true, ys, len, nd, n));
        assertTrue(ScanSimd.advance(at, 0, dlsFar, us, bm, cm, 0, eF, 0, hsF, 0, true, ysF, len, nd, n));
        for (int j = 0; j < len; j++)
            for (int o = 0; o < nd; o++) {
                boolean far = o == 0 || o == nd - 1;
                if (!far) assertEquals(ys[j * nd + o], ysF[j * nd + o], 0f, "y at step " + j + ", channel " + o);
                for (int s = 0; s < n; s++) {
                    int i = j * sz + s * nd + o;
                    if (far) assertEquals(Float.MIN_NORMAL, eF[i], 0f, "exp(1e6·A) clamps to 2^-126 (f = 0, so 2^f is 1)");
                    else {
                        assertEquals(e[i], eF[i], 0f, "factor at step " + j + ", state " + s + ", channel " + o);
                        assertEquals(hs[i + sz], hsF[i + sz], 0f, "state at step " + j + ", state " + s + ", channel " + o);
                    }
                }
            }
    }
}
