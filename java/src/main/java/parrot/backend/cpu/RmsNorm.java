package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;

/** RMSNorm over the last dim, x·rstd·w with rstd = 1/√(mean(x²) + eps) (mamba_ssm RMSNorm, no bias). */
final class RmsNorm {
    private RmsNorm() {
    }

    static void forward(float[] out, float[] rstd, float[] in, float[] w, double eps, int n, int c) {
        Parallel.forRange(n, 16, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * c;
                double ms = 0;
                for (int i = 0; i < c; i++) ms += (double) in[base + i] * in[base + i];
                float s = (float) (1.0 / Math.sqrt(ms / c + eps));
                for (int i = 0; i < c; i++) out[base + i] = in[base + i] * s * w[i];
                rstd[r] = s;
            }
        });
    }

    /** zeroFirst: din is a deferred zero (CpuTensor.claimZero), filled here a block of rows at a time. */
    static void backward(float[] din, float[] dw, float[] dout, float[] in, float[] w, float[] rstd, int n, int c,
                         boolean zeroFirst) {
        if (din != null) {
            // y = x·s·w, s = (mean x² + eps)^(-1/2): dx = s·(w·dy) − x·s³·mean(w·dy·x)
            Parallel.forRange(n, 16, (lo, hi) -> {
                if (zeroFirst) java.util.Arrays.fill(din, lo * c, hi * c, 0f);
                for (int r = lo; r < hi; r++) {
                    int base = r * c;
                    float s = rstd[r];
                    double dot = 0;
                    for (int i = 0; i < c; i++) dot += (double) w[i] * dout[base + i] * in[base + i];
                    float k = (float) (dot / c) * s * s * s;
                    for (int i = 0; i < c; i++) din[base + i] += s * w[i] * dout[base + i] - in[base + i] * k;
                }
            });
        }
        if (dw != null) {
            Parallel.forRange(c, 8, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    float sw = 0f;
                    for (int r = 0; r < n; r++) sw += dout[r * c + i] * in[r * c + i] * rstd[r];
                    dw[i] += sw;
                }
            });
        }
    }
}
