package parrot.backend.cpu;

import parrot.backend.AttentionSpec;
import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * The reference causal attention: scores q·k/√hd − slope·(q−k) over the keys a head's window allows, softmax,
 * weighted sum of v. Only the log-sum-exp of each row is kept; backward recomputes the probabilities from it,
 * exactly what the fused GPU kernel does, so both share one saved-state layout.
 */
final class Attention {
    private Attention() {
    }

    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int batch, int seqLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        float scale = (float) (1 / Math.sqrt(hd));
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            float[] s = new float[seqLen];
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads;
                float slope = (float) spec.slope(h);
                for (int q = 0; q < seqLen; q++) {
                    int qo = (b * seqLen + q) * width + h * 3 * hd, k0 = spec.firstKey(h, q);
                    float max = Float.NEGATIVE_INFINITY;
                    for (int k = k0; k <= q; k++) {
                        int ko = (b * seqLen + k) * width + h * 3 * hd + hd;
                        s[k] = Simd.dot(qkv, qo, qkv, ko, hd) * scale - slope * (q - k);
                        max = Math.max(max, s[k]);
                    }
                    double sum = 0;
                    for (int k = k0; k <= q; k++) sum += Math.exp(s[k] - max);
                    float l = (float) (max + Math.log(sum));
                    lse[bh * seqLen + q] = l;
                    int oo = (b * seqLen + q) * owidth + h * hd;
                    java.util.Arrays.fill(out, oo, oo + hd, 0f);
                    for (int k = k0; k <= q; k++) {
                        float p = (float) Math.exp(s[k] - l);
                        Simd.axpy(out, oo, p, qkv, (b * seqLen + k) * width + h * 3 * hd + 2 * hd, hd);
                    }
                }
            }
        });
    }

    /** Accumulates into dqkv; every (batch, head) owns its slices, so the loop is race-free. */
    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int batch, int seqLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        float scale = (float) (1 / Math.sqrt(hd));
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads;
                float slope = (float) spec.slope(h);
                for (int q = 0; q < seqLen; q++) {
                    int qo = (b * seqLen + q) * width + h * 3 * hd, oo = (b * seqLen + q) * owidth + h * hd;
                    float rowDot = Simd.dot(dout, oo, out, oo, hd);  // rowsum(dO∘O), the FlashAttention-2 pre-pass
                    float l = lse[bh * seqLen + q];
                    for (int k = spec.firstKey(h, q); k <= q; k++) {
                        int ko = (b * seqLen + k) * width + h * 3 * hd + hd, vo = ko + hd;
                        float dot = Simd.dot(qkv, qo, qkv, ko, hd), dp = Simd.dot(dout, oo, qkv, vo, hd);
                        float p = (float) Math.exp(dot * scale - slope * (q - k) - l);
                        float ds = p * (dp - rowDot) * scale;
                        Simd.axpy(dqkv, vo, p, dout, oo, hd);
                        Simd.axpy(dqkv, qo, ds, qkv, ko, hd);
                        Simd.axpy(dqkv, ko, ds, qkv, qo, hd);
                    }
                }
            }
        });
    }

    /** k and v of positions 0..seqLen−1 of qkv [batch·seqLen, heads·3·hd] into the caches [batch, heads, maxLen, hd]. */
    static void fillCache(float[] kCache, float[] vCache, float[] qkv, AttentionSpec spec, int batch, int seqLen,
                          int maxLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads;
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, cache = bh * maxLen * hd;
                for (int t = 0; t < seqLen; t++) {
                    int qo = (b * seqLen + t) * width + h * 3 * hd;
                    System.arraycopy(qkv, qo + hd, kCache, cache + t * hd, hd);
                    System.arraycopy(qkv, qo + 2 * hd, vCache, cache + t * hd, hd);
                }
            }
        });
    }

    /** One query per sequence at position pos against the KV cache [batch, heads, maxLen, hd]. */
    static void decode(float[] out, float[] qkv, float[] kCache, float[] vCache, AttentionSpec spec, int batch,
                       int pos, int maxLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        if (pos < 0 || pos >= maxLen) throw new IllegalArgumentException("decode position " + pos + " outside cache of " + maxLen);
        float scale = (float) (1 / Math.sqrt(hd));
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            float[] s = new float[pos + 1];
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads;
                int qo = b * width + h * 3 * hd, cache = bh * maxLen * hd;
                System.arraycopy(qkv, qo + hd, kCache, cache + pos * hd, hd);
                System.arraycopy(qkv, qo + 2 * hd, vCache, cache + pos * hd, hd);
                float slope = (float) spec.slope(h), max = Float.NEGATIVE_INFINITY;
                int k0 = spec.firstKey(h, pos);
                for (int k = k0; k <= pos; k++) {
                    s[k] = Simd.dot(qkv, qo, kCache, cache + k * hd, hd) * scale - slope * (pos - k);
                    max = Math.max(max, s[k]);
                }
                double sum = 0;
                for (int k = k0; k <= pos; k++) sum += Math.exp(s[k] - max);
                float l = (float) (max + Math.log(sum));
                int oo = b * owidth + h * hd;
                java.util.Arrays.fill(out, oo, oo + hd, 0f);
                for (int k = k0; k <= pos; k++) {
                    Simd.axpy(out, oo, (float) Math.exp(s[k] - l), vCache, cache + k * hd, hd);
                }
            }
        });
    }
}
