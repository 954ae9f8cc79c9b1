package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.ScanSimd;

/**
 * SiLU x·σ(x) (torch.nn.functional.silu), Mamba's activation after the conv and on the z gate. These scalar
 * functions define it (and are what the float64 twin runs); ScanSimd's vector form uses the vector exp, within
 * a few ulp of them.
 */
final class Silu {
    private Silu() {
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    static float silu(float x) {
        return x * sigmoid(x);
    }

    /** d silu / dx = σ(x)·(1 + x·(1 − σ(x))). */
    static float siluGrad(float x) {
        float s = sigmoid(x);
        return s * (1f + x * (1f - s));
    }

    static void forward(float[] out, float[] in, int n) {
        Parallel.forRange(n, 4096, (lo, hi) -> {
            if (!ScanSimd.silu(out, in, lo, hi - lo))
                for (int i = lo; i < hi; i++) out[i] = silu(in[i]);
        });
    }

    /** din += dout·silu'(in); zeroFirst: din is a deferred zero (CpuTensor.claimZero), filled here chunk by chunk. */
    static void backward(float[] din, float[] dout, float[] in, int n, boolean zeroFirst) {
        Parallel.forRange(n, 4096, (lo, hi) -> {
            if (zeroFirst) java.util.Arrays.fill(din, lo, hi, 0f);
            if (!ScanSimd.siluBackward(din, dout, in, lo, hi - lo))
                for (int i = lo; i < hi; i++) din[i] += dout[i] * siluGrad(in[i]);
        });
    }
}
