package parrot.backend.cpu.common;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scan kernels' specialised loops give the bits of their general forms: the adjoint over a block of exactly
 * two vectors (adjointPair, the quickstart's 16 channels on AVX2) against the one-vector-at-a-time loop
 * (adjointVectors), over several steps so that dh and dA carry, with and without the optional outputs.
 */
class ScanVectorOpsTest {
    @Test
    void adjointOfTwoVectorsIsTheGeneralLoopBitwise() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int w = ScanVectorOps.lanes(), nd = 2 * w, n = 5, len = 7, sz = n * nd;
        Random r = new Random(11);
        float[] hs = gauss(r, (len + 1) * sz), es = gauss(r, len * sz), at = gauss(r, sz), dls = gauss(r, len * nd);
        float[] bm = gauss(r, len * n), cm = gauss(r, len * n), gs = gauss(r, len * nd), us = gauss(r, len * nd);
        for (boolean optional : new boolean[]{true, false}) {
            float[][] a = state(sz, len * n, optional), b = state(sz, len * n, optional);
            for (int j = len - 1; j >= 0; j--) {
                float[] g = java.util.Arrays.copyOfRange(gs, j * nd, (j + 1) * nd);
                float[] uu = java.util.Arrays.copyOfRange(us, j * nd, (j + 1) * nd);
                float[] ddA = new float[nd], duA = g.clone(), ddB = new float[nd], duB = g.clone();
                ScanVectorOps.adjoint(hs, (j + 1) * sz, j * sz, es, a[0], at, dls, j * nd, g, uu, bm, cm, j * n, ddA,
                        duA, a[1], a[2], a[3], j * n, nd, n, new float[2 * n * w]);
                ScanVectorOps.adjointVectors(hs, (j + 1) * sz, j * sz, es, b[0], at, dls, j * nd, g, uu, bm, cm, j * n,
                        ddB, duB, b[1], b[2], b[3], j * n, nd, n, new float[2 * n * w]);
                assertArrayEquals(ddB, ddA, "dDelta at step " + j);
                assertArrayEquals(duB, duA, "du at step " + j);
            }
            for (int k = 0; k < 4; k++)
                if (b[k] != null) assertArrayEquals(b[k], a[k], "output " + k + (optional ? "" : " without dA, dB, dC"));
        }
    }

    /** dh (non-zero, as carried from a later chunk), dA, pB, pC; the last three null without optional. */
    private static float[][] state(int sz, int rows, boolean optional) {
        float[] dh = gauss(new Random(5), sz);
        return optional ? new float[][]{dh, new float[sz], new float[rows], new float[rows]} : new float[][]{dh, null, null, null};
    }

    private static float[] gauss(Random r, int m) {
        float[] a = new float[m];
        for (int i = 0; i < m; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
