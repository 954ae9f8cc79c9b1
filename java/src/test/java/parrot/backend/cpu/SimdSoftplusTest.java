package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.common.Simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vector softplus (exp, log1p, torch's threshold at 20) against the plain one, over the range that matters. */
class SimdSoftplusTest {
    @Test
    void matchesThePlainSoftplus() {
        int n = 1203;                               // not a multiple of any vector width: the scalar tail runs too
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -40f + 80f * i / (n - 1);
        x[7] = 20f;
        x[8] = Math.nextUp(20f);
        x[9] = Math.nextDown(20f);
        float[] y = x.clone();
        assertTrue(Simd.softplus(y, 0, n), "the tests run with the vector module");
        for (int i = 0; i < n; i++) {
            float want = Scan.softplus(x[i]);
            assertEquals(want, y[i], 2e-6f * Math.max(Math.abs(want), 1e-30f), "softplus(" + x[i] + ")");
        }
        assertEquals(Math.nextUp(20f), y[8], "above 20 softplus is the identity, as in torch");
    }
}
