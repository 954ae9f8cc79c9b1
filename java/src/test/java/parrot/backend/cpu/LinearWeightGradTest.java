package parrot.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Linear's weight gradient is bitwise Simd.gemm's definition (each dW[o, i] summed over rows in order by fused
 * multiply-adds of dout[r, o] and in[r, i], from dW's value) on both of its ways: narrow inputs (Mamba's dt_proj,
 * 4 wide) as (dW)ᵀ += inᵀ·dout, the rest as dW += doutᵀ·in; output counts around the 32-column blocks.
 */
class LinearWeightGradTest {
    @Test
    void narrowAndWideInputsGiveTheOrderedFmaSums() {
        java.util.Random rnd = new java.util.Random(11);
        int[][] shapes = {{4, 128}, {4, 40}, {1, 7}, {3, 33}, {15, 64}, {16, 64}, {4, 8}, {64, 36}};
        for (int[] sh : shapes) {
            int ni = sh[0], no = sh[1], n = 70 + rnd.nextInt(300);
            float[] in = gaussian(rnd, n * ni), dout = gaussian(rnd, n * no), dw0 = gaussian(rnd, no * ni);
            float[] want = dw0.clone(), got = dw0.clone(), db = new float[no];
            for (int o = 0; o < no; o++)
                for (int i = 0; i < ni; i++) {
                    float x = want[o * ni + i];
                    for (int r = 0; r < n; r++) x = Math.fma(dout[r * no + o], in[r * ni + i], x);
                    want[o * ni + i] = x;
                }
            Linear.backward(null, got, db, dout, in, new float[no * ni], n, ni, no, false);
            assertArrayEquals(want, got, "ni " + ni + " no " + no + " n " + n);
        }
    }

    private static float[] gaussian(java.util.Random rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
