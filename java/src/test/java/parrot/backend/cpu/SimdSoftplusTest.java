package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.common.Simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's vector softplus (the Mamba deltas): within a few ulp of Math.log1p(Math.exp(x)) from tiny to
 * the threshold, the identity above 20 as in torch, and the same bits in the vector body as in the scalar tail
 * (it is made of adds, multiplies, FMAs and a division, so a run's numbers do not depend on the JIT tier).
 */
class SimdSoftplusTest {
    private static final int ULPS = 4;

    private static float reference(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    @Test
    void closeToLog1pOfExp() {
        int n = 40009;                                      // odd: the scalar tail runs too
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -80f + 110f * i / (n - 1);
        float[] special = {20f, Math.nextUp(20f), Math.nextDown(20f), 0f, -0f, 1e-7f, -1e-7f, 16.63f, 17f, -17f,
                (float) Math.log(Math.sqrt(2) - 1), (float) Math.log(Math.sqrt(2) - 1 + 1e-3)};
        System.arraycopy(special, 0, x, 0, special.length);
        float[] y = x.clone();
        assertTrue(Simd.softplus(y, 0, n), "the tests run with the vector module");
        float worst = 0;
        for (int i = 0; i < n; i++) {
            float want = reference(x[i]);
            float ulps = Math.abs(want - y[i]) / Math.ulp(want);
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= ULPS, "softplus(" + x[i] + ") = " + y[i] + ", want " + want + " (" + ulps + " ulp)");
        }
        assertEquals(Math.nextUp(20f), y[1], "above 20 softplus is the identity, as in torch");
        assertTrue(worst > 0, "compared against an independent reference");
    }

    @Test
    void tinyHugeAndNonFinite() {
        float[] x = {-87f, -100f, -1e30f, Float.NEGATIVE_INFINITY, 1e30f, Float.POSITIVE_INFINITY, Float.NaN, -86f};
        float[] y = x.clone();
        Simd.softplus(y, 0, y.length);
        // below exp's range the result clamps at float's smallest normal: off by < 1.2e-38 absolute
        for (int i = 0; i < 4; i++) assertEquals(reference(x[i]), y[i], 1.2e-38f, "softplus(" + x[i] + ")");
        assertEquals(1e30f, y[4]);
        assertEquals(Float.POSITIVE_INFINITY, y[5]);
        assertTrue(Float.isNaN(y[6]), "NaN stays NaN");
        assertEquals(reference(-86f), y[7], ULPS * Math.ulp(reference(-86f)));
    }

    @Test
    void vectorBodyAndScalarTailAgreeBitwise() {
        float[] x = new float[517];
        java.util.Random r = new java.util.Random(11);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 12);
        float[] all = x.clone();
        Simd.softplus(all, 0, all.length);                  // mostly the vector body
        for (int i = 0; i < x.length; i++) {
            float[] one = {x[i]};
            Simd.softplus(one, 0, 1);                       // always the scalar tail
            assertEquals(Float.floatToRawIntBits(all[i]), Float.floatToRawIntBits(one[0]), "softplus(" + x[i] + ")");
        }
    }
}
