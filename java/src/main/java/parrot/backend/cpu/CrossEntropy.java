package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;

/** Masked softmax cross-entropy fused with its gradient; per-row losses are summed in row order. */
final class CrossEntropy {
    private CrossEntropy() {
    }

    static double forwardBackward(float[] dlogits, float[] logits, int[] targets, float scale, int n, int v) {
        double[] rowLoss = new double[n];
        Parallel.forRange(n, 32, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * v, t = targets[r];
                if (t < 0) {
                    if (dlogits != null) java.util.Arrays.fill(dlogits, base, base + v, 0f);
                    continue;
                }
                if (t >= v) throw new IllegalArgumentException("target " + t + " at row " + r + " is outside 0.." + (v - 1));
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) max = Math.max(max, logits[base + j]);
                double sum = 0;
                for (int j = 0; j < v; j++) sum += Math.exp(logits[base + j] - max);
                double lse = max + Math.log(sum);
                rowLoss[r] = lse - logits[base + t];
                if (dlogits != null) {
                    for (int j = 0; j < v; j++) {
                        double p = Math.exp(logits[base + j] - lse);
                        dlogits[base + j] = (float) (scale * (p - (j == t ? 1 : 0)));
                    }
                }
            }
        });
        double s = 0;
        for (double l : rowLoss) s += l;
        return s;
    }
}
