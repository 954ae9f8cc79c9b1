package parrot.backend.cpu;

import parrot.backend.cpu.common.ConvSimd;
import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * Causal depthwise conv1d over time (Mamba's conv1d: groups = channels, padding K−1, first seqLen outputs),
 * on channels-last activations [batch·seqLen, C] with weight [C, K]. Parallel over sequences; every output
 * and every weight gradient is summed in a fixed order. The inner loops run over channels, contiguous in the
 * activations and in the transposed weight [K, C] and weight-gradient partials, as Simd.mulAdd where the vector
 * module is on (bitwise the plain loops beside each call); with a width-4 kernel, rows whose taps all exist and the
 * weight gradient as ConvSimd's register-held sums (the same bits).
 */
final class Conv1d {
    private Conv1d() {
    }

    /** [C, K] → [K, C]. */
    private static float[] transposed(float[] w, int c, int k) {
        float[] wt = new float[k * c];
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < k; j++) wt[j * c + ch] = w[ch * k + j];
        return wt;
    }

    static void forward(float[] out, float[] in, float[] w, float[] bias, int batch, int seqLen, int c, int k) {
        float[] wt = transposed(w, c, k);
        Parallel.forRange(batch * seqLen, 64, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int t = r % seqLen, ob = r * c;
                if (t >= k - 1 && ConvSimd.forwardRow(out, ob, in, (r - k + 1) * c, wt, bias, c, k)) continue;
                for (int ch = 0; ch < c; ch++) out[ob + ch] = bias == null ? 0f : bias[ch];
                for (int j = 0; j < k; j++) {
                    int ts = t - k + 1 + j;
                    if (ts < 0) continue;
                    int ib = (r - t + ts) * c, wb = j * c;
                    if (!Simd.mulAdd(out, ob, wt, wb, in, ib, c))
                        for (int ch = 0; ch < c; ch++) out[ob + ch] += wt[wb + ch] * in[ib + ch];
                }
            }
        });
    }

    /** zeroFirst: din is a deferred zero (CpuTensor.claimZero), filled here a block of rows at a time. */
    static void backward(float[] din, float[] dw, float[] db, float[] dout, float[] in, float[] w, int batch,
                         int seqLen, int c, int k, boolean zeroFirst) {
        if (din != null) {
            // din[t] += Σ_j w[j]·dout[t + K−1 − j]
            float[] wt = transposed(w, c, k);
            Parallel.forRange(batch * seqLen, 64, (lo, hi) -> {
                if (zeroFirst) java.util.Arrays.fill(din, lo * c, hi * c, 0f);
                for (int r = lo; r < hi; r++) {
                    int t = r % seqLen, ib = r * c;
                    if (t + k - 1 < seqLen && ConvSimd.inputGradRow(din, ib, dout, ib, wt, c, k)) continue;
                    for (int j = 0; j < k; j++) {
                        int to = t + k - 1 - j;
                        if (to >= seqLen) continue;
                        int ob = (r - t + to) * c, wb = j * c;
                        if (!Simd.mulAdd(din, ib, wt, wb, dout, ob, c))
                            for (int ch = 0; ch < c; ch++) din[ib + ch] += wt[wb + ch] * dout[ob + ch];
                    }
                }
            });
        }
        if (dw != null || db != null) {
            // channel-parallel: each weight sums over (sequence, time) in order, whatever the split
            Parallel.forRange(c, 32, (lo, hi) -> {
                int nc = hi - lo;
                float[] sw = new float[k * nc], sb = new float[nc];     // sw: [K, this block's channels]
                if (!ConvSimd.weightGrad(sw, sb, dout, in, batch, seqLen, c, k, lo, hi)) {
                    for (int r = 0; r < batch * seqLen; r++) {
                        int t = r % seqLen, ob = r * c;
                        for (int ch = lo; ch < hi; ch++) sb[ch - lo] += dout[ob + ch];
                        for (int j = 0; j < k; j++) {
                            int ts = t - k + 1 + j;
                            if (ts < 0) continue;
                            int ib = (r - t + ts) * c, sj = j * nc;
                            if (!Simd.mulAdd(sw, sj, dout, ob + lo, in, ib + lo, nc))
                                for (int ch = lo; ch < hi; ch++) sw[sj + ch - lo] += dout[ob + ch] * in[ib + ch];
                        }
                    }
                }
                for (int ch = lo; ch < hi; ch++) {
                    if (db != null) db[ch] += sb[ch - lo];
                    if (dw != null) for (int j = 0; j < k; j++) dw[ch * k + j] += sw[j * nc + ch - lo];
                }
            });
        }
    }

    static void step(float[] out, float[] state, float[] in, float[] w, float[] bias, int batch, int c, int k) {
        int m = k - 1;
        Parallel.forRange(batch * c, 256, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int ch = i % c, sb = i * m;
                float x = in[i];
                float acc = bias == null ? 0f : bias[ch];
                for (int j = 0; j < m; j++) acc += w[ch * k + j] * state[sb + j];
                acc += w[ch * k + m] * x;
                out[i] = acc;
                for (int j = 0; j + 1 < m; j++) state[sb + j] = state[sb + j + 1];
                if (m > 0) state[sb + m - 1] = x;
            }
        });
    }

    /** state [batch, c, k−1] = the last k−1 inputs of in [batch·seqLen, c] per channel, zeros before time 0. */
    static void fillState(float[] state, float[] in, int batch, int seqLen, int c, int k) {
        int m = k - 1;
        for (int b = 0; b < batch; b++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < m; j++) {
                    int t = seqLen - m + j;
                    state[(b * c + ch) * m + j] = t >= 0 ? in[(b * seqLen + t) * c + ch] : 0f;
                }
    }
}
