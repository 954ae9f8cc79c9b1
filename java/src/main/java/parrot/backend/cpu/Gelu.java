package parrot.backend.cpu;

import parrot.backend.cpu.common.Erf;
import parrot.backend.cpu.common.Parallel;

/** Exact GELU x·Φ(x) (torch.nn.functional.gelu, approximate='none'). */
final class Gelu {
    private static final double INV_SQRT2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    private Gelu() {
    }

    static void forward(float[] out, float[] in, int n) {
        Parallel.forRange(n, 4096, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                double x = in[i];
                out[i] = (float) (0.5 * x * (1 + Erf.erf(x * INV_SQRT2)));
            }
        });
    }

    static void backward(float[] din, float[] dout, float[] in, int n) {
        Parallel.forRange(n, 4096, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                double x = in[i];
                double cdf = 0.5 * (1 + Erf.erf(x * INV_SQRT2));
                double pdf = Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
                din[i] += (float) (dout[i] * (cdf + x * pdf));
            }
        });
    }
}
