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
        int w = ScanVectorOps.lanes();
        // states: fewer than a vector's lanes (all summed by treeSum), a group of W (the butterflies), and a group plus 3
        for (int n : new int[]{5, w, w + 3}) adjointPairIsAdjointVectors(n);
    }

    private static void adjointPairIsAdjointVectors(int n) {
        int w = ScanVectorOps.lanes(), nd = 2 * w, len = 7, sz = n * nd;
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
                        duA, a[1], a[2], a[3], j * n, nd, n, new float[2 * n * (w + 1)]);
                ScanVectorOps.adjointVectors(hs, (j + 1) * sz, j * sz, es, b[0], at, dls, j * nd, g, uu, bm, cm, j * n,
                        ddB, duB, b[1], b[2], b[3], j * n, nd, n, new float[2 * n * (w + 1)]);
                assertArrayEquals(ddB, ddA, "dDelta at step " + j + ", " + n + " states");
                assertArrayEquals(duB, duA, "du at step " + j + ", " + n + " states");
            }
            for (int k = 0; k < 4; k++)
                if (b[k] != null)
                    assertArrayEquals(b[k], a[k], "output " + k + ", " + n + " states" + (optional ? "" : " without dA, dB, dC"));
        }
    }

    /**
     * The butterfly network gives each state the bits of its halving tree (treeSum), for whole groups of W states
     * and the states after them; and the tree is a sum (within float rounding of one in double).
     */
    @Test
    void laneSumsAreTheHalvingTreeBitwise() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int w = ScanVectorOps.lanes();
        Random r = new Random(3);
        for (int n : new int[]{1, w - 1, w, 2 * w + 3}) {
            float[] acc = gauss(r, n * w + 5), dst = gauss(r, n + 2), want = dst.clone();
            for (int s = 0; s < n; s++) want[1 + s] = ScanVectorOps.treeSum(acc, 5 + s * w);
            ScanVectorOps.laneSums(acc, 5, n, dst, 1);
            assertArrayEquals(want, dst, n + " states");
            for (int s = 0; s < n; s++) {
                double exact = 0, mag = 0;
                for (int l = 0; l < w; l++) {
                    exact += acc[5 + s * w + l];
                    mag += Math.abs(acc[5 + s * w + l]);
                }
                float tree = ScanVectorOps.treeSum(acc, 5 + s * w);
                assertTrue(Math.abs(tree - exact) <= 1e-6 * mag, "state " + s + ": " + tree + " against " + exact);
            }
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
