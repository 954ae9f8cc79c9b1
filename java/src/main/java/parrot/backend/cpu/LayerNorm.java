package parrot.backend.cpu;

import parrot.backend.cpu.common.NormSimd;
import parrot.backend.cpu.common.Parallel;

/**
 * LayerNorm over the last dim (biased variance, as torch.nn.LayerNorm). With the vector module the float32
 * backend runs NormSimd's vector rows instead (float sums; the parameter gradients the same bits as below).
 */
final class LayerNorm {
    private static final int PARAM_COLS = 16;

    private LayerNorm() {
    }

    static void forward(float[] out, float[] mean, float[] rstd, float[] in, float[] w, float[] b, double eps,
                        int n, int c) {
        Parallel.forRange(n, 16, (lo, hi) -> {
            if (NormSimd.layerNormForward(out, mean, rstd, in, w, b, eps, c, lo, hi)) return;
            for (int r = lo; r < hi; r++) {
                int base = r * c;
                double m = 0;
                for (int i = 0; i < c; i++) m += in[base + i];
                m /= c;
                double v = 0;
                for (int i = 0; i < c; i++) {
                    double d = in[base + i] - m;
                    v += d * d;
                }
                v /= c;
                float s = (float) (1.0 / Math.sqrt(v + eps));
                float mf = (float) m;
                for (int i = 0; i < c; i++) {
                    float norm = (in[base + i] - mf) * s;
                    out[base + i] = norm * w[i] + (b == null ? 0f : b[i]);
                }
                mean[r] = mf;
                rstd[r] = s;
            }
        });
    }

    /** zeroFirst: din is a deferred zero (CpuTensor.claimZero), filled here a block of rows at a time. */
    static void backward(float[] din, float[] dw, float[] db, float[] dout, float[] in, float[] w,
                         float[] mean, float[] rstd, int n, int c, boolean zeroFirst) {
        if (din != null) {
            Parallel.forRange(n, 16, (lo, hi) -> {
                if (zeroFirst) java.util.Arrays.fill(din, lo * c, hi * c, 0f);
                if (NormSimd.layerNormInputGrad(din, dout, in, w, mean, rstd, c, lo, hi)) return;
                for (int r = lo; r < hi; r++) {
                    int base = r * c;
                    float m = mean[r], s = rstd[r];
                    double dnormMean = 0, dnormNormMean = 0;
                    for (int i = 0; i < c; i++) {
                        float norm = (in[base + i] - m) * s;
                        float dnorm = w[i] * dout[base + i];
                        dnormMean += dnorm;
                        dnormNormMean += dnorm * norm;
                    }
                    float a = (float) (dnormMean / c), bb = (float) (dnormNormMean / c);
                    for (int i = 0; i < c; i++) {
                        float norm = (in[base + i] - m) * s;
                        float dnorm = w[i] * dout[base + i];
                        din[base + i] += (dnorm - a - norm * bb) * s;
                    }
                }
            });
        }
        if (dw != null || db != null) {
            // Column-parallel so every weight sums its rows in order: deterministic on any core count. Blocks of
            // PARAM_COLS columns, a whole number of vectors at 8 or 16 floats, so NormSimd's vector loop takes every
            // column: with AVX-512's 16 floats the 8-column chunks this had left all of them to its scalar tail.
            Parallel.forRange((c + PARAM_COLS - 1) / PARAM_COLS, 1, (glo, ghi) -> {
                int lo = glo * PARAM_COLS, hi = Math.min(c, ghi * PARAM_COLS);
                if (NormSimd.layerNormParamGrads(dw, db, dout, in, mean, rstd, n, c, lo, hi)) return;
                for (int i = lo; i < hi; i++) {
                    float sw = 0f, sb = 0f;
                    for (int r = 0; r < n; r++) {
                        float g = dout[r * c + i];
                        sw += g * ((in[r * c + i] - mean[r]) * rstd[r]);
                        sb += g;
                    }
                    if (dw != null) dw[i] += sw;
                    if (db != null) db[i] += sb;
                }
            });
        }
    }
}
