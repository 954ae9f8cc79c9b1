package parrot.backend.cpu.common;

import org.junit.jupiter.api.Test;
import parrot.backend.AttentionSpec;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Padding a head with zero dims gives the unpadded kernel's bits (the claim that lets an AVX-512 host run 8-wide
 * heads as 16-wide ones): a head_dim of W run as it is and run padded to 2·W and 3·W, forward and backward, for
 * windowed, sloped and plain heads, at lengths around the vector width.
 */
class AttentionPaddedHeadsTest {
    private static final int B = 2, H = 4;

    @Test
    void zeroDimsLeaveTheBitsOfTheRealOnes() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        int hd = AttentionVectorOps.W;
        AttentionSpec spec = new AttentionSpec(H, hd, new int[]{0, 3, 0, 9}, new double[]{0, 0.25, 0.5, 0});
        float scale = AttentionVectorOps.scale(hd);
        for (int len : new int[]{1, 7, 17, 40}) {
            Random r = new Random(len);
            int rows = B * len, width = 3 * H * hd, owidth = H * hd;
            float[] qkv = gauss(r, rows * width), dout = gauss(r, rows * owidth), dqkv0 = gauss(r, rows * width);
            float[] out = new float[rows * owidth], lse = new float[B * H * len], dqkv = dqkv0.clone();
            AttentionVectorOps.forward(out, lse, qkv, spec, len, 0, B * H, scale, hd);
            AttentionVectorOps.backward(dqkv, dout, qkv, out, lse, spec, len, 0, B * H, scale, hd);
            for (int hdp : new int[]{2 * hd, 3 * hd}) {
                float[] o = new float[rows * owidth], l = new float[B * H * len], d = dqkv0.clone();
                AttentionPaddedHeads.forward(o, l, qkv, spec, len, 0, B * H, hdp);
                AttentionPaddedHeads.backward(d, dout, qkv, o, l, spec, len, 0, B * H, hdp);
                String at = " (T=" + len + ", padded to " + hdp + ")";
                assertArrayEquals(out, o, "out" + at);
                assertArrayEquals(lse, l, "lse" + at);
                assertArrayEquals(dqkv, d, "dqkv" + at);
            }
        }
    }

    private static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
