package parrot.backend.cpu;

import parrot.backend.AttentionSpec;
import parrot.backend.cpu.common.AttentionSimd;
import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * The reference causal attention: scores q·k/√hd − slope·(q−k) over the keys a head's window allows, softmax,
 * weighted sum of v. Only the log-sum-exp of each row is kept; backward recomputes the probabilities from it,
 * exactly what the fused GPU kernel does, so both share one saved-state layout.
 */
final class Attention {
    private Attention() {
    }

    /**
     * Query rows per block: a block's keys are [firstKey(h, q0), q1), so causality and Hard-ALiBi windows skip
     * whole blocks of keys, and the scratch is QB × T rather than T × T.
     */
    private static final int QB = 32;

    /*
     * With the vector module AttentionSimd does each (batch, head) (four query rows at a time, masks as vector
     * blends; see AttentionVectorOps; heads not a multiple of the vector width with queries on the lanes, AttentionQueryLanes).
     * The loops below define the op
     * and are what the float64 twin runs: per (batch, head) and block of queries the products are small matrix
     * products (MatMul.acc: S = Q·Kᵀ, O = P·V; backward dP = dO·Vᵀ, dV += Pᵀ·dO, dQ += dS·K, dK += dSᵀ·Q) with the
     * head's Kᵀ (and Vᵀ) gathered once. Entries outside the causal mask or the window are exact zeros in P.
     */
    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int batch, int seqLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        float scale = (float) (1 / Math.sqrt(hd));
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            if (AttentionSimd.forward(out, lse, qkv, spec, seqLen, lo, hi)) return;
            int qb = Math.min(QB, seqLen);
            float[] kt = new float[hd * seqLen], s = new float[qb * seqLen];
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, rows = b * seqLen, col = h * 3 * hd;
                float slope = (float) spec.slope(h);
                transposeHead(kt, qkv, rows, col + hd, width, seqLen, hd);
                for (int q0 = 0; q0 < seqLen; q0 += qb) {
                    int q1 = Math.min(seqLen, q0 + qb), nq = q1 - q0, kLo = firstKey(spec, h, q0), nk = q1 - kLo;
                    java.util.Arrays.fill(s, 0, nq * nk, 0f);
                    MatMul.acc(s, 0, nk, qkv, (rows + q0) * width + col, width, 1, kt, kLo, seqLen, nq, hd, nk);
                    for (int r = 0; r < nq; r++) {
                        int q = q0 + r, c0 = spec.firstKey(h, q) - kLo, c1 = q - kLo, sr = r * nk;
                        float max = Float.NEGATIVE_INFINITY;
                        if (slope == 0f)                      // the same bits as below (x − 0 = x), a loop C2 vectorizes
                            for (int c = c0; c <= c1; c++) s[sr + c] *= scale;
                        else
                            for (int c = c0; c <= c1; c++) s[sr + c] = s[sr + c] * scale - slope * (c1 - c);
                        for (int c = c0; c <= c1; c++) max = Math.max(max, s[sr + c]);
                        for (int c = c0; c <= c1; c++) s[sr + c] -= max;
                        Simd.exp(s, sr + c0, c1 - c0 + 1);
                        double sum = 0;
                        for (int c = c0; c <= c1; c++) sum += s[sr + c];
                        lse[bh * seqLen + q] = (float) (max + Math.log(sum));
                        float inv = (float) (1 / sum);
                        for (int c = c0; c <= c1; c++) s[sr + c] *= inv;
                        java.util.Arrays.fill(s, sr, sr + c0, 0f);
                        java.util.Arrays.fill(s, sr + c1 + 1, sr + nk, 0f);
                        int oo = (rows + q) * owidth + h * hd;
                        java.util.Arrays.fill(out, oo, oo + hd, 0f);
                    }
                    MatMul.acc(out, (rows + q0) * owidth + h * hd, owidth, s, 0, nk, 1,
                            qkv, (rows + kLo) * width + col + 2 * hd, width, nq, nk, hd);
                }
            }
        });
    }

    /**
     * The block's first key, rounded down to a multiple of 8 so the key count of a full block fills whole vectors
     * (the GEMM's columns past the last full vector take a slower path); the extra keys are masked.
     */
    private static int firstKey(AttentionSpec spec, int h, int q0) {
        return spec.firstKey(h, q0) & ~7;
    }

    /** dst[d·seqLen + t] = qkv[(rows + t)·width + col + d]: one head's k (or v) slice as hd × T. */
    private static void transposeHead(float[] dst, float[] qkv, int rows, int col, int width, int seqLen, int hd) {
        for (int t = 0; t < seqLen; t++) {
            int src = (rows + t) * width + col;
            for (int d = 0; d < hd; d++) dst[d * seqLen + t] = qkv[src + d];
        }
    }

    /**
     * Accumulates into dqkv; every (batch, head) owns its slices, so the loop is race-free. zeroFirst: dqkv is a
     * deferred zero (CpuTensor.claimZero), each (batch, head)'s slices filled by the worker that writes them.
     */
    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int batch, int seqLen, boolean zeroFirst) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        float scale = (float) (1 / Math.sqrt(hd));
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            if (zeroFirst)
                for (int bh = lo; bh < hi; bh++) {
                    int col = (bh % heads) * 3 * hd;
                    for (int r = (bh / heads) * seqLen, end = r + seqLen; r < end; r++)
                        java.util.Arrays.fill(dqkv, r * width + col, r * width + col + 3 * hd, 0f);
                }
            if (AttentionSimd.backward(dqkv, dout, qkv, out, lse, spec, seqLen, lo, hi)) return;
            int qb = Math.min(QB, seqLen);
            float[] kt = new float[hd * seqLen], vt = new float[hd * seqLen];
            float[] p = new float[qb * seqLen], ds = new float[qb * seqLen];
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, rows = b * seqLen, col = h * 3 * hd;
                float slope = (float) spec.slope(h);
                transposeHead(kt, qkv, rows, col + hd, width, seqLen, hd);
                transposeHead(vt, qkv, rows, col + 2 * hd, width, seqLen, hd);
                for (int q0 = 0; q0 < seqLen; q0 += qb) {
                    int q1 = Math.min(seqLen, q0 + qb), nq = q1 - q0, kLo = firstKey(spec, h, q0), nk = q1 - kLo;
                    int qo = (rows + q0) * width + col, ko = (rows + kLo) * width + col + hd, oo = (rows + q0) * owidth + h * hd;
                    java.util.Arrays.fill(p, 0, nq * nk, 0f);
                    java.util.Arrays.fill(ds, 0, nq * nk, 0f);
                    MatMul.acc(p, 0, nk, qkv, qo, width, 1, kt, kLo, seqLen, nq, hd, nk);             // S
                    MatMul.acc(ds, 0, nk, dout, oo, owidth, 1, vt, kLo, seqLen, nq, hd, nk);          // dP
                    for (int r = 0; r < nq; r++) {
                        int q = q0 + r, c0 = spec.firstKey(h, q) - kLo, c1 = q - kLo, sr = r * nk;
                        float l = lse[bh * seqLen + q];
                        float rowDot = Simd.dot(dout, oo + r * owidth, out, oo + r * owidth, hd); // rowsum(dO∘O)
                        if (slope == 0f)                      // the same bits as below (x − 0 = x)
                            for (int c = c0; c <= c1; c++) p[sr + c] = p[sr + c] * scale - l;
                        else
                            for (int c = c0; c <= c1; c++) p[sr + c] = p[sr + c] * scale - slope * (c1 - c) - l;
                        Simd.exp(p, sr + c0, c1 - c0 + 1);
                        for (int c = c0; c <= c1; c++) ds[sr + c] = p[sr + c] * (ds[sr + c] - rowDot) * scale;
                        java.util.Arrays.fill(p, sr, sr + c0, 0f);
                        java.util.Arrays.fill(p, sr + c1 + 1, sr + nk, 0f);
                        java.util.Arrays.fill(ds, sr, sr + c0, 0f);
                        java.util.Arrays.fill(ds, sr + c1 + 1, sr + nk, 0f);
                    }
                    MatMul.acc(dqkv, ko + hd, width, p, 0, 1, nk, dout, oo, owidth, nk, nq, hd);      // dV += Pᵀ·dO
                    MatMul.acc(dqkv, qo, width, ds, 0, nk, 1, qkv, ko, width, nq, nk, hd);            // dQ += dS·K
                    MatMul.acc(dqkv, ko, width, ds, 0, 1, nk, qkv, qo, width, nk, nq, hd);            // dK += dSᵀ·Q
                }
            }
        });
    }

    /** k and v of positions 0..seqLen−1 of qkv [batch·seqLen, heads·3·hd] into the caches [batch, heads, maxLen, hd]. */
    static void fillCache(float[] kCache, float[] vCache, float[] qkv, AttentionSpec spec, int batch, int seqLen,
                          int maxLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads;
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, cache = bh * maxLen * hd;
                for (int t = 0; t < seqLen; t++) {
                    int qo = (b * seqLen + t) * width + h * 3 * hd;
                    System.arraycopy(qkv, qo + hd, kCache, cache + t * hd, hd);
                    System.arraycopy(qkv, qo + 2 * hd, vCache, cache + t * hd, hd);
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
                    s[k] = Simd.dot(qkv, qo, kCache, cache + k * hd, hd) * scale - slope * (pos - k);
                    max = Math.max(max, s[k]);
                }
                double sum = 0;
                for (int k = k0; k <= pos; k++) sum += Math.exp(s[k] - max);
                float l = (float) (max + Math.log(sum));
                int oo = b * owidth + h * hd;
                java.util.Arrays.fill(out, oo, oo + hd, 0f);
                for (int k = k0; k <= pos; k++) {
                    Simd.axpy(out, oo, (float) Math.exp(s[k] - l), vCache, cache + k * hd, hd);
                }
            }
        });
    }
}
