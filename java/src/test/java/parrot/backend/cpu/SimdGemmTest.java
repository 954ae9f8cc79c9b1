package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.common.Simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Simd.gemm is bitwise its definition (each element summed over p in order by fused multiply-adds) for every
 * split of rows and columns between its register-blocked body, its row-vector tail and its scalar leftovers:
 * widths below, at and around one, two and four vectors (AVX-512's 6 × 4-vector tiles, then the 2-vector ones for
 * the columns left), A plain (the forward's layout, whose B is packed from 48 rows on), transposed (the
 * weight-gradient layout) or strided both ways, B inside wider rows, k below and over a cache block (KC = 128) and
 * rows over a row block (RB = 48).
 */
class SimdGemmTest {
    @Test
    void equalsOrderedFmaSumsForAllTailShapes() {
        java.util.Random rnd = new java.util.Random(3);
        int[] ms = {1, 3, 4, 7, 8, 9, 13, 16, 21, 53};
        int[] ns = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 30, 36, 63, 64, 65, 80, 100, 128, 130};
        for (String layout : new String[]{"A", "Aᵀ", "A strided"})
            for (int m : ms)
                for (int n : ns) {
                    int k = rnd.nextInt(4) == 0 ? 120 + rnd.nextInt(160) : 1 + rnd.nextInt(40);
                    boolean transposed = layout.equals("Aᵀ"), strided = layout.equals("A strided");
                    int lda = transposed ? 1 : strided ? 2 : k, aps = transposed ? m : strided ? 2 * m : 1;
                    int bo = strided ? 3 : 0, ldb = strided ? n + 2 : n;        // B inside wider rows
                    float[] a = new float[(m - 1) * lda + (k - 1) * aps + 1], b = new float[bo + k * ldb];
                    float[] c0 = new float[m * n];
                    for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
                    for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
                    for (int i = 0; i < c0.length; i++) c0[i] = (float) rnd.nextGaussian();
                    float[] want = c0.clone(), got = c0.clone();
                    for (int r = 0; r < m; r++)
                        for (int j = 0; j < n; j++) {
                            float x = want[r * n + j];
                            for (int p = 0; p < k; p++) x = Math.fma(a[r * lda + p * aps], b[bo + p * ldb + j], x);
                            want[r * n + j] = x;
                        }
                    assertTrue(Simd.gemm(got, 0, n, a, 0, lda, aps, b, bo, ldb, m, k, n), "the tests run with the vector module");
                    assertArrayEquals(want, got, "m " + m + " k " + k + " n " + n + " (" + layout + ")");
                    // the same product with A and C inside larger arrays, at offsets (as Linear's row blocks are)
                    int off = 5;
                    float[] aBig = new float[a.length + off], cBig = new float[c0.length + off];
                    System.arraycopy(a, 0, aBig, off, a.length);
                    System.arraycopy(c0, 0, cBig, off, c0.length);
                    Simd.gemm(cBig, off, n, aBig, off, lda, aps, b, bo, ldb, m, k, n);
                    assertArrayEquals(want, java.util.Arrays.copyOfRange(cBig, off, off + c0.length),
                            "at offset " + off + ": m " + m + " k " + k + " n " + n + " (" + layout + ")");
                }
    }
}
