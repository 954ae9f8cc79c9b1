package parrot.backend.cpu.common;

import org.junit.jupiter.api.Test;
import parrot.backend.AttentionSpec;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queries-on-lanes kernels' claim about their bits: a query's results are the sum over its own visible keys in
 * order, the keys its vector's other lanes see adding exact zeros. So a prefix of a sequence, run on its own (other
 * keys in its last block, other lanes beside it), gives the same out, lse and dQ bits for its queries as the whole
 * sequence does; a mask that leaked, or a sum whose order depended on the block, would not. (CpuAttentionTest
 * checks the values against the float64 reference.)
 */
class AttentionQueryLanesTest {
    private static final int B = 2, H = 4, T = 40;

    @Test
    void aPrefixGetsTheBitsOfTheWholeSequence() {
        assertTrue(Simd.vectorized(), "needs --add-modules jdk.incubator.vector (the pom's argLine)");
        for (int hd : new int[]{3, 8, 12}) {
            AttentionSpec spec = new AttentionSpec(H, hd, new int[]{0, 3, 0, 9}, new double[]{0, 0.25, 0.5, 0});
            int width = 3 * H * hd, owidth = H * hd;
            Random r = new Random(hd);
            float[] qkv = gauss(r, B * T * width), dout = gauss(r, B * T * owidth);
            float[] out = new float[B * T * owidth], lse = new float[B * H * T], dqkv = new float[B * T * width];
            AttentionQueryLanes.forward(out, lse, qkv, spec, T, 0, B * H);
            AttentionQueryLanes.backward(dqkv, dout, qkv, out, lse, spec, T, 0, B * H);
            for (int len : new int[]{1, 7, 17, 33}) {
                float[] o = new float[B * len * owidth], l = new float[B * H * len], d = new float[B * len * width];
                float[] q = prefix(qkv, width, len);
                AttentionQueryLanes.forward(o, l, q, spec, len, 0, B * H);
                AttentionQueryLanes.backward(d, prefix(dout, owidth, len), q, o, l, spec, len, 0, B * H);
                String at = " (hd=" + hd + ", prefix " + len + " of " + T + ")";
                assertArrayEquals(prefix(out, owidth, len), o, "out" + at);
                float[] lsePrefix = new float[B * H * len];
                for (int bh = 0; bh < B * H; bh++) System.arraycopy(lse, bh * T, lsePrefix, bh * len, len);
                assertArrayEquals(lsePrefix, l, "lse" + at);
                assertArrayEquals(queryParts(prefix(dqkv, width, len), hd), queryParts(d, hd), "dQ" + at);
            }
        }
    }

    /** The first len rows of every sequence of rows [B·T, width]. */
    private static float[] prefix(float[] rows, int width, int len) {
        float[] p = new float[B * len * width];
        for (int b = 0; b < B; b++) System.arraycopy(rows, b * T * width, p, b * len * width, len * width);
        return p;
    }

    /** dqkv with its k and v slices zeroed: only the q slices (per head q|k|v, each hd wide) remain. */
    private static float[] queryParts(float[] dqkv, int hd) {
        float[] q = dqkv.clone();
        for (int i = 0; i < q.length; i += 3 * hd) Arrays.fill(q, i + hd, i + 3 * hd, 0f);
        return q;
    }

    private static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
