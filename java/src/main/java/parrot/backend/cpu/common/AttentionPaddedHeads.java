package parrot.backend.cpu.common;

import parrot.backend.AttentionSpec;

/**
 * Attention for heads narrower than, or not a multiple of, the vector width W (head_dim 8 with AVX-512's 16 floats:
 * the quickstart's): each (batch, head) pair is copied into a one-head problem whose head_dim is rounded up to a
 * multiple of W with zeros, {@link AttentionVectorOps} runs on it with the true width's scale, and the real dims
 * are copied back.
 *
 * <p>Bits: a zero dim adds fma(0, 0, s) = s to every score and 0·0 to every row dot, and every other sum is per
 * lane, so the real dims hold the same bits as the unpadded kernel gives at a width that divides head_dim (an
 * AVX-512 host gives an AVX2 host's bits). The score and row-dot sums
 * skip the padded dims; the value and gradient products, a vector per key, run on them (at head_dim 8 and 16
 * floats, half of those lanes are zeros).
 */
final class AttentionPaddedHeads {
    private AttentionPaddedHeads() {
    }

    /** head_dim rounded up to a multiple of the vector width. */
    static int padded(int headDim) {
        int w = AttentionVectorOps.W;
        return (headDim + w - 1) / w * w;
    }

    /** One head of {@code spec} as a one-head spec of width {@code hdp}, its window and slope kept. */
    private static AttentionSpec[] oneHeadSpecs(AttentionSpec spec, int hdp) {
        AttentionSpec[] one = new AttentionSpec[spec.heads()];
        for (int h = 0; h < one.length; h++)
            one[h] = new AttentionSpec(1, hdp, new int[]{spec.window(h)}, new double[]{spec.slope(h)});
        return one;
    }

    /**
     * Copies head h of batch b between rows of the full layout, [B·T, H·parts·hd] (per head its parts, each hd wide:
     * q|k|v for qkv, one for out), and the padded one, [T, parts·hdp]; the padding is left as it is (zero).
     */
    private static void copyHead(float[] full, float[] padded, boolean toPadded, int parts, int b, int h, int heads,
                                 int hd, int hdp, int seqLen) {
        int ld = parts * hd * heads;
        for (int t = 0; t < seqLen; t++)
            for (int c = 0; c < parts; c++) {
                int f = (b * seqLen + t) * ld + (h * parts + c) * hd, p = (t * parts + c) * hdp;
                if (toPadded) System.arraycopy(full, f, padded, p, hd);
                else System.arraycopy(padded, p, full, f, hd);
            }
    }

    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int seqLen, int bhLo, int bhHi) {
        forward(out, lse, qkv, spec, seqLen, bhLo, bhHi, padded(spec.headDim()));
    }

    /** With the padded width hdp given (a multiple of W, at least head_dim): the tests pad wider than they must. */
    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int seqLen, int bhLo, int bhHi,
                        int hdp) {
        int heads = spec.heads(), hd = spec.headDim();
        float scale = AttentionVectorOps.scale(hd);
        AttentionSpec[] one = oneHeadSpecs(spec, hdp);
        float[] qkvP = new float[seqLen * 3 * hdp], outP = new float[seqLen * hdp], lseP = new float[seqLen];
        for (int bh = bhLo; bh < bhHi; bh++) {
            int b = bh / heads, h = bh % heads;
            copyHead(qkv, qkvP, true, 3, b, h, heads, hd, hdp, seqLen);
            AttentionVectorOps.forward(outP, lseP, qkvP, one[h], seqLen, 0, 1, scale, hd);
            copyHead(out, outP, false, 1, b, h, heads, hd, hdp, seqLen);
            System.arraycopy(lseP, 0, lse, bh * seqLen, seqLen);
        }
    }

    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int seqLen, int bhLo, int bhHi) {
        backward(dqkv, dout, qkv, out, lse, spec, seqLen, bhLo, bhHi, padded(spec.headDim()));
    }

    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int seqLen, int bhLo, int bhHi, int hdp) {
        int heads = spec.heads(), hd = spec.headDim();
        float scale = AttentionVectorOps.scale(hd);
        AttentionSpec[] one = oneHeadSpecs(spec, hdp);
        float[] qkvP = new float[seqLen * 3 * hdp], dqkvP = new float[seqLen * 3 * hdp];
        float[] outP = new float[seqLen * hdp], doutP = new float[seqLen * hdp], lseP = new float[seqLen];
        for (int bh = bhLo; bh < bhHi; bh++) {
            int b = bh / heads, h = bh % heads;
            copyHead(qkv, qkvP, true, 3, b, h, heads, hd, hdp, seqLen);
            copyHead(out, outP, true, 1, b, h, heads, hd, hdp, seqLen);
            copyHead(dout, doutP, true, 1, b, h, heads, hd, hdp, seqLen);
            System.arraycopy(lse, bh * seqLen, lseP, 0, seqLen);
            copyHead(dqkv, dqkvP, true, 3, b, h, heads, hd, hdp, seqLen);  // accumulates onto it, as unpadded
            AttentionVectorOps.backward(dqkvP, doutP, qkvP, outP, lseP, one[h], seqLen, 0, 1, scale, hd);
            copyHead(dqkv, dqkvP, false, 3, b, h, heads, hd, hdp, seqLen);
        }
    }
}
