package parrot.backend.cpu;

import parrot.backend.AdamWParams;
import parrot.backend.cpu.common.Parallel;

/** torch.optim.AdamW, step for step: decay, moments, bias-corrected update. */
final class AdamW {
    private AdamW() {
    }

    static void step(float[] p, float[] g, float[] m, float[] v, AdamWParams hp, double wd, int step, double lr,
                     int n) {
        double bc1 = 1 - Math.pow(hp.beta1(), step);
        double bc2 = 1 - Math.pow(hp.beta2(), step);
        float decay = (float) (1 - lr * wd);
        float b1 = (float) hp.beta1(), b2 = (float) hp.beta2();
        float stepSize = (float) (lr / bc1);
        float sqrtBc2 = (float) Math.sqrt(bc2);
        float eps = (float) hp.eps();
        Parallel.forRange(n, 1 << 14, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float gi = g[i];
                p[i] *= decay;
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                float denom = (float) Math.sqrt(v[i]) / sqrtBc2 + eps;
                p[i] -= stepSize * m[i] / denom;
            }
        });
    }
}
