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

    /**
     * The fused chunk (chunkPair) gives the bits of stepInputs, adjointVectors and stepOutputs run a step at a time,
     * newest step first, for every output, adding to the outputs or assigning them (deferred zeros).
     */
    @Test
    void fusedChunkIsTheStepKernelsBitwise() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int w = ScanVectorOps.lanes(), nd = 2 * w, d = nd + 3, d0 = 2, len = 6;
        for (int n : new int[]{5, w})
            for (boolean assign : new boolean[]{false, true}) {
                Random r = new Random(17 + n);
                int sz = n * nd, rows = len + 1, rowI0 = d + d0, rb0 = n, pb0 = 3, pd0 = 1;
                float[] dout = gauss(r, rows * d), z = gauss(r, rows * d), us = gauss(r, len * nd), ys = gauss(r, len * nd);
                float[] sig = gauss(r, len * nd), dls = gauss(r, len * nd), sgs = gauss(r, len * nd), dSkip = gauss(r, d);
                float[] hs = gauss(r, (len + 1) * sz), es = gauss(r, len * sz), at = gauss(r, sz);
                float[] bm = gauss(r, rows * n), cm = gauss(r, rows * n);
                // outputs: dz, du, ddelta, pD, pBias, dh, dA, pB, pC, each with prior contents
                float[][] a = {gauss(r, rows * d), gauss(r, rows * d), gauss(r, rows * d), gauss(r, d), gauss(r, d),
                        gauss(r, sz), gauss(r, sz), gauss(r, pb0 + len * n + 2), gauss(r, pb0 + len * n + 2)};
                float[][] b = new float[a.length][];
                for (int k = 0; k < a.length; k++) b[k] = a[k].clone();
                // the per-state buffers as slices of one array, at odd offsets (Scan.backward puts them on lines)
                int hsO = 3, esO = hsO + hs.length + 5, dhO = esO + es.length + 1, atO = dhO + sz + 9, dAO = atO + sz + 2;
                int accO = dAO + sz + 11;
                float[] ar = new float[accO + 2 * len * n * w + 4];
                System.arraycopy(hs, 0, ar, hsO, hs.length);
                System.arraycopy(es, 0, ar, esO, es.length);
                System.arraycopy(a[5], 0, ar, dhO, sz);
                System.arraycopy(at, 0, ar, atO, sz);
                System.arraycopy(a[6], 0, ar, dAO, sz);
                ScanVectorOps.chunkPair(new float[][]{dout, z, a[0], a[1], a[2], us, ys, sig, dls, sgs, dSkip, a[3], a[4],
                        ar, bm, cm, a[7], a[8]}, new int[]{rowI0, d, d0, pd0, rb0, pb0, hsO, esO, dhO, atO, dAO, accO},
                        assign, len, n);
                a[5] = java.util.Arrays.copyOfRange(ar, dhO, dhO + sz);
                a[6] = java.util.Arrays.copyOfRange(ar, dAO, dAO + sz);
                float[] g = new float[nd], uu = new float[nd], dDelta = new float[nd], duAcc = new float[nd];
                float[] acc = new float[2 * n * (w + 1)];
                for (int j = len - 1; j >= 0; j--) {
                    int i0 = rowI0 + j * d, jd = j * nd;
                    ScanVectorOps.stepInputs(dout, z, b[0], assign, i0, us, ys, sig, jd, dSkip, d0, b[3], pd0, g, uu,
                            dDelta, duAcc, nd);
                    ScanVectorOps.adjointVectors(hs, (j + 1) * sz, j * sz, es, b[5], at, dls, jd, g, uu, bm, cm,
                            rb0 + j * n, dDelta, duAcc, b[6], b[7], b[8], pb0 + j * n, nd, n, acc);
                    ScanVectorOps.stepOutputs(b[1], b[2], assign, i0, duAcc, dDelta, sgs, jd, b[4], pd0, nd);
                }
                String[] names = {"dz", "du", "ddelta", "pD", "pBias", "dh", "dA", "pB", "pC"};
                for (int k = 0; k < a.length; k++)
                    assertArrayEquals(b[k], a[k], names[k] + ", " + n + " states" + (assign ? ", assigned" : ", added"));
            }
    }

    /** The cache-line offset is one the JVM can have: 16 floats at most, 8-byte aligned objects give even ones. */
    @Test
    void cacheLineOffsetsAreInRange() {
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        for (int k = 0; k < 200; k++) {
            int off = CacheLines.floatsToLine(new float[1 + k % 37]);
            assertTrue(off >= 0 && off < 16 && off % 2 == 0, "offset " + off);
            seen.add(off);
        }
        assertTrue(seen.size() > 1, "200 arrays of mixed sizes all at offset " + seen + ": the address is not read");
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
