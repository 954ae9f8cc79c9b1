package parrot.backend.cpu.common;

import org.junit.jupiter.api.Test;
import parrot.backend.AttentionSpec;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AttentionDiagonals' claim: for the heads it takes (windows up to W/2) it gives the bits of the broadcasting
 * kernels of AttentionQueryLanes, forward and backward, whatever T (partial last blocks, T shorter than the window),
 * head width (groups of eight dims and a remainder), slope, and dqkv's prior contents. A diagonal mask that leaked,
 * a pair summed out of order, a stale diagonal of an earlier head or a padding lane that was not zero would change
 * them. (CpuAttentionTest checks the values against the float64 reference.)
 */
class AttentionKernelsTest {
    @Test
    void diagonalsGiveTheBroadcastingKernelsBits() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int w = AttentionDiagonals.W;
        assertTrue(AttentionDiagonals.applies(1) && AttentionDiagonals.applies(w / 2) && !AttentionDiagonals.applies(0),
                "the diagonals take windows 1..W/2 and no causal head");
        Random r = new Random(11);
        for (int seqLen : new int[]{1, 2, w - 1, w, w + 3, 3 * w + 5, 64})
            for (int hd : new int[]{3, 8, 12, 17}) {
                int heads = 4, batch = 2;
                // windows the diagonals take (1 and W/2 included) beside a causal head and a wide window, so one
                // call mixes both kernels and reuses the diagonal scratch across heads of different windows
                int[] windows = {w / 2, 0, 1, 2 * w + 1};
                double[] slopes = {0, 0.5, 0.125, 0};
                if (r.nextBoolean()) windows[0] = 1 + r.nextInt(w / 2);
                AttentionSpec spec = new AttentionSpec(heads, hd, windows, slopes);
                int width = 3 * heads * hd, owidth = heads * hd, bh = batch * heads;
                float[] qkv = gauss(r, batch * seqLen * width), dout = gauss(r, batch * seqLen * owidth);
                float[] outD = new float[batch * seqLen * owidth], lseD = new float[bh * seqLen];
                float[] outB = outD.clone(), lseB = lseD.clone();
                AttentionQueryLanes.forward(outD, lseD, qkv, spec, seqLen, 0, bh, true);
                AttentionQueryLanes.forward(outB, lseB, qkv, spec, seqLen, 0, bh, false);
                String at = " (T=" + seqLen + ", hd=" + hd + ", windows " + java.util.Arrays.toString(windows) + ")";
                assertArrayEquals(outB, outD, "out" + at);
                assertArrayEquals(lseB, lseD, "lse" + at);
                float[] dD = gauss(r, batch * seqLen * width), dB = dD.clone();
                AttentionQueryLanes.backward(dD, dout, qkv, outB, lseB, spec, seqLen, 0, bh, true);
                AttentionQueryLanes.backward(dB, dout, qkv, outB, lseB, spec, seqLen, 0, bh, false);
                assertArrayEquals(dB, dD, "dqkv" + at);
            }
    }

    private static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
