package parrot.backend.cpu.common;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ConvSimd's width-4 weight and bias gradients give the plain loop's bits (Conv1d's: per tap, over the rows in
 * order, a multiply then an add), on channel ranges that take its two-vector, one-vector and scalar paths, at
 * the shortest sequence it takes and longer ones; other widths and shorter sequences are left to the plain loop.
 */
class ConvSimdTest {
    private static final int K = 4;

    @Test
    void theRegisterSumsAreThePlainLoopsBits() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int w = VectorWidth.FLOAT.length(), c = 3 * w + 5, batch = 3;
        for (int seqLen : new int[]{3, 4, 17}) {
            Random r = new Random(seqLen);
            float[] dout = gauss(r, batch * seqLen * c), in = gauss(r, batch * seqLen * c);
            for (int[] range : new int[][]{{0, c}, {1, c}, {w, 3 * w}, {c - 3, c}}) {
                int lo = range[0], hi = range[1], nc = hi - lo;
                float[] sw = new float[K * nc], sb = new float[nc], pw = new float[K * nc], pb = new float[nc];
                assertTrue(ConvSimd.weightGrad(sw, sb, dout, in, batch, seqLen, c, K, lo, hi));
                for (int row = 0; row < batch * seqLen; row++) {                    // Conv1d.backward's loop
                    int t = row % seqLen, ob = row * c;
                    for (int ch = lo; ch < hi; ch++) pb[ch - lo] += dout[ob + ch];
                    for (int j = 0; j < K; j++) {
                        int ts = t - K + 1 + j;
                        if (ts < 0) continue;
                        int ib = (row - t + ts) * c;
                        for (int ch = lo; ch < hi; ch++) pw[j * nc + ch - lo] += dout[ob + ch] * in[ib + ch];
                    }
                }
                String at = " (T=" + seqLen + ", channels " + lo + ".." + hi + ")";
                assertArrayEquals(pw, sw, "weight" + at);
                assertArrayEquals(pb, sb, "bias" + at);
            }
        }
        float[] any = new float[64];
        assertFalse(ConvSimd.weightGrad(any, any, any, any, 1, 4, 4, 3, 0, 4), "a width-3 kernel");
        assertFalse(ConvSimd.weightGrad(any, any, any, any, 1, 2, 4, 4, 0, 4), "a 2-step sequence");
    }

    /** A row with all four taps, forward and input gradient, with and without a bias: the plain loop's bits. */
    @Test
    void fullRowsAreThePlainLoopsBits() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int c = 3 * VectorWidth.FLOAT.length() + 5;
        Random r = new Random(9);
        float[] in = gauss(r, 4 * c), wt = gauss(r, K * c), bias = gauss(r, c), din0 = gauss(r, c);
        for (float[] b : new float[][]{bias, null}) {
            float[] out = new float[c], plain = new float[c];
            assertTrue(ConvSimd.forwardRow(out, 0, in, 0, wt, b, c, K));
            for (int ch = 0; ch < c; ch++) {                                       // Conv1d.forward's loop
                plain[ch] = b == null ? 0f : b[ch];
                for (int j = 0; j < K; j++) plain[ch] += wt[j * c + ch] * in[j * c + ch];
            }
            assertArrayEquals(plain, out, b == null ? "forward without a bias" : "forward");
        }
        float[] din = din0.clone(), plain = din0.clone();
        assertTrue(ConvSimd.inputGradRow(din, 0, in, 0, wt, c, K));                 // dout rows t..t+3 = in's
        for (int ch = 0; ch < c; ch++)                                             // Conv1d.backward's loop
            for (int j = 0; j < K; j++) plain[ch] += wt[j * c + ch] * in[(K - 1 - j) * c + ch];
        assertArrayEquals(plain, din, "input gradient");
        assertFalse(ConvSimd.forwardRow(in, 0, in, 0, wt, bias, c, 3), "a width-3 kernel");
    }

    private static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
