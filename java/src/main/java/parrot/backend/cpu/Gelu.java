package parrot.backend.cpu;

import parrot.backend.cpu.common.Erf;
import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * Exact GELU x·Φ(x) (torch.nn.functional.gelu, approximate='none'). Arithmetic is in the backend's precision:
 * Erf.erf(float) here, and the float64 twin's double x picks the full-precision Erf.erf(double). With the vector
 * module on, the float32 backend runs Simd.geluForward/geluBackward instead (the same formulas on vectors).
 */
final class Gelu {
    private static final float INV_SQRT2 = (float) (1 / Math.sqrt(2));
    private static final float INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));

    private Gelu() {
    }

    static void forward(float[] out, float[] in, int n) {
        Parallel.forRange(n, 4096, (lo, hi) -> {
            if (Simd.geluForward(out, lo, in, lo, hi - lo)) return;
            for (int i = lo; i < hi; i++) {
                float x = in[i];
                out[i] = 0.5f * x * (1f + Erf.erf(x * INV_SQRT2));
            }
        });
    }

    /** din += dout·gelu'(in); zeroFirst: din is a deferred zero (CpuTensor.claimZero), filled here chunk by chunk. */
    static void backward(float[] din, float[] dout, float[] in, int n, boolean zeroFirst) {
        Parallel.forRange(n, 4096, (lo, hi) -> {
            if (zeroFirst) java.util.Arrays.fill(din, lo, hi, 0f);
            if (Simd.geluBackward(din, lo, dout, lo, in, lo, hi - lo)) return;
            for (int i = lo; i < hi; i++) {
                float x = in[i];
                float cdf = 0.5f * (1f + Erf.erf(x * INV_SQRT2));
                float pdf = (float) Math.exp(-0.5f * x * x) * INV_SQRT_2PI;
                din[i] += dout[i] * (cdf + x * pdf);
            }
        });
    }
}
