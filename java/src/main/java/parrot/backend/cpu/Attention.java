package parrot.backend.cpu;

import parrot.backend.AttentionSpec;
import parrot.backend.cpu.common.Parallel;

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
                        float dot = 0f;
                        for (int d = 0; d < hd; d++) dot += qkv[qo + d] * qkv[ko + d];
                        s[k] = dot * scale - slope * (q - k);
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
                        int vo = (b * seqLen + k) * width + h * 3 * hd + 2 * hd;
                        for (int d = 0; d < hd; d++) out[oo + d] += p * qkv[vo + d];
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
                    float rowDot = 0f;                       // rowsum(dO∘O), the FlashAttention-2 pre-pass
                    for (int d = 0; d < hd; d++) rowDot += dout[oo + d] * out[oo + d];
                    float l = lse[bh * seqLen + q];
                    for (int k = spec.firstKey(h, q); k <= q; k++) {
                        int ko = (b * seqLen + k) * width + h * 3 * hd + hd, vo = ko + hd;
                        float dot = 0f, dp = 0f;
                        for (int d = 0; d < hd; d++) {
                            dot += qkv[qo + d] * qkv[ko + d];
                            dp += dout[oo + d] * qkv[vo + d];
                        }
                        float p = (float) Math.exp(dot * scale - slope * (q - k) - l);
                        float ds = p * (dp - rowDot) * scale;
                        for (int d = 0; d < hd; d++) {
                            dqkv[vo + d] += p * dout[oo + d];
                            dqkv[qo + d] += ds * qkv[ko + d];
                            dqkv[ko + d] += ds * qkv[qo + d];
                        }
                    }
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
                    float dot = 0f;
                    for (int d = 0; d < hd; d++) dot += qkv[qo + d] * kCache[cache + k * hd + d];
                    s[k] = dot * scale - slope * (pos - k);
                    max = Math.max(max, s[k]);
                }
                double sum = 0;
                for (int k = k0; k <= pos; k++) sum += Math.exp(s[k] - max);
                float l = (float) (max + Math.log(sum));
                int oo = b * owidth + h * hd;
                java.util.Arrays.fill(out, oo, oo + hd, 0f);
                for (int k = k0; k <= pos; k++) {
                    float p = (float) Math.exp(s[k] - l);
                    for (int d = 0; d < hd; d++) out[oo + d] += p * vCache[cache + k * hd + d];
                }
            }
        });
    }
}
