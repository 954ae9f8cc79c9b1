package parrot.backend.cpu;

import parrot.backend.RopeSpec;
import parrot.backend.cpu.common.Parallel;

/** GPT-NeoX rotary embedding ("rotate_half" pairing) on the q and k of a fused qkv row. */
final class Rope {
    private Rope() {
    }

    /** cos and sin for positions posOffset.., [seqLen, rotaryDims/2] each, computed in double. */
    private static double[][] table(RopeSpec spec, int seqLen, int posOffset) {
        int half = spec.rotaryDims() / 2;
        double[] cos = new double[seqLen * half], sin = new double[seqLen * half];
        for (int t = 0; t < seqLen; t++) {
            for (int i = 0; i < half; i++) {
                double a = (posOffset + t) * spec.invFreq(i);
                cos[t * half + i] = Math.cos(a);
                sin[t * half + i] = Math.sin(a);
            }
        }
        return new double[][]{cos, sin};
    }

    /** out = rotate(qkv); with inverse = true, out += rotate⁻¹(qkv) (the backward). */
    static void apply(float[] out, float[] qkv, RopeSpec spec, int batch, int seqLen, int posOffset,
                      boolean inverse) {
        int hd = spec.headDim(), heads = spec.heads(), half = spec.rotaryDims() / 2, width = 3 * hd * heads;
        double[][] cs = table(spec, seqLen, posOffset);
        double[] cos = cs[0], sin = cs[1];
        float sign = inverse ? -1f : 1f;
        Parallel.forRange(batch * seqLen, 16, (lo, hi) -> {
            for (int row = lo; row < hi; row++) {
                int base = row * width, t = row % seqLen;
                if (inverse) for (int j = 0; j < width; j++) out[base + j] += qkv[base + j];
                else System.arraycopy(qkv, base, out, base, width);
                for (int h = 0; h < heads; h++) {
                    for (int part = 0; part < 2; part++) {          // q, then k; v is untouched
                        int x = base + h * 3 * hd + part * hd;
                        for (int i = 0; i < half; i++) {
                            float c = (float) cos[t * half + i], s = sign * (float) sin[t * half + i];
                            float x1 = qkv[x + i], x2 = qkv[x + i + half];
                            float r1 = x1 * c - x2 * s, r2 = x2 * c + x1 * s;
                            if (inverse) {
                                out[x + i] += r1 - x1;
                                out[x + i + half] += r2 - x2;
                            } else {
                                out[x + i] = r1;
                                out[x + i + half] = r2;
                            }
                        }
                    }
                }
            }
        });
    }
}
