package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.common.Simd;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The CPU backend's vector exp: within a few ulp of Math.exp over float's range, 0 and overflow clamped, and the
 * same bits in the vector body as in the scalar tail (it is made of adds, multiplies and fused multiply-adds,
 * so that a run's numbers do not depend on when the JIT compiled a loop).
 */
class SimdExpTest {
    @Test
    void closeToMathExp() {
        int n = 20011;                                     // odd: the scalar tail runs too
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -87f + 175f * i / (n - 1);
        float[] y = x.clone();
        Simd.exp(y, 0, n);
        for (int i = 0; i < n; i++) {
            double want = Math.exp(x[i]);
            assertEquals(want, y[i], 4 * Math.ulp((float) want), "exp(" + x[i] + ")");
        }
        float[] edge = {0f, -0f, 1f, -1f, -200f, 200f};
        Simd.exp(edge, 0, edge.length);
        assertEquals(1f, edge[0]);
        assertEquals(1f, edge[1]);
        assertEquals((float) Math.E, edge[2], 2 * Math.ulp((float) Math.E));
        assertEquals(0f, edge[4], 1e-37f, "underflow clamps to (near) 0");
        org.junit.jupiter.api.Assertions.assertTrue(Float.isFinite(edge[5]) && edge[5] > 2e38f,
                "overflow clamps to exp(88.38), finite: " + edge[5]);
    }

    @Test
    void vectorBodyAndScalarTailAgreeBitwise() {
        float[] x = new float[257];
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 10);
        float[] all = x.clone();
        Simd.exp(all, 0, all.length);                      // mostly vector body
        for (int i = 0; i < x.length; i++) {
            float[] one = {x[i]};
            Simd.exp(one, 0, 1);                           // always the scalar tail
            assertEquals(Float.floatToRawIntBits(all[i]), Float.floatToRawIntBits(one[0]), "exp(" + x[i] + ")");
        }
    }
}
