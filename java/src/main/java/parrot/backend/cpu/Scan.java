package parrot.backend.cpu;

import parrot.backend.cpu.common.FastExp;
import parrot.backend.cpu.common.Parallel;

/**
 * Mamba's selective scan (mamba_ssm selective_scan_ref semantics, real A, time-varying B and C), forward,
 * backward and one decoding step; see Backend#scanForward for the formulas and layouts.
 *
 * <p>Work is split into tasks of (sequence, block of {@link #DBLK} channels): parallel over both, sequential
 * over time. The forward saves the state entering every chunk of {@code chunk} steps; the backward walks the
 * chunks newest first, recomputes the chunk's states from its checkpoint into a per-task buffer of
 * (chunk+1)·DBLK·N floats, and runs the adjoint recurrence back through them. Gradients of B and C (shared by
 * all channels) and of A, D, delta_bias (shared by all sequences) are summed per task and then reduced in a
 * fixed order, so the result does not depend on the number of threads.
 */
final class Scan {
    /** Channels per task; also the reduction grouping of dB and dC, so it must not depend on thread count. */
    static final int DBLK = 16;

    private Scan() {
    }

    static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    /** d softplus / dx with torch's threshold (1 above 20). */
    static float softplusGrad(float x) {
        return x > 20f ? 1f : (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** Floats of the per-task recompute buffer of the backward: independent of the sequence length. */
    static long backwardBufferFloats(int chunk, int n) {
        return (long) (2 * chunk + 1) * DBLK * n + (long) chunk * DBLK * 2 + DBLK * n;
    }

    private static int blocks(int d) {
        return (d + DBLK - 1) / DBLK;
    }

    static void forward(float[] out, float[] ckpt, float[] u, float[] delta, float[] a, float[] bm, float[] cm,
                        float[] dSkip, float[] z, float[] dBias, boolean softplus, int batch, int seqLen, int d,
                        int n, int chunk) {
        int nb = blocks(d), nChunks = (seqLen + chunk - 1) / chunk;
        Parallel.forRange(batch * nb, 1, (lo, hi) -> {
            for (int task = lo; task < hi; task++) {
                int b = task / nb, d0 = (task % nb) * DBLK, d1 = Math.min(d, d0 + DBLK), nd = d1 - d0;
                float[] h = new float[nd * n];
                for (int t = 0; t < seqLen; t++) {
                    if (t % chunk == 0) {
                        int cb = ((b * nChunks + t / chunk) * d + d0) * n;
                        System.arraycopy(h, 0, ckpt, cb, nd * n);
                    }
                    int row = b * seqLen + t, rb = row * n;
                    for (int dd = 0; dd < nd; dd++) {
                        int ch = d0 + dd, i = row * d + ch, hb = dd * n, ab = ch * n;
                        float dl = delta[i] + (dBias == null ? 0f : dBias[ch]);
                        if (softplus) dl = softplus(dl);
                        float uu = u[i], du = dl * uu, y = 0f;
                        for (int s = 0; s < n; s++) {
                            float hs = FastExp.exp(dl * a[ab + s]) * h[hb + s] + du * bm[rb + s];
                            h[hb + s] = hs;
                            y += cm[rb + s] * hs;
                        }
                        if (dSkip != null) y += dSkip[ch] * uu;
                        if (z != null) y *= Silu.silu(z[i]);
                        out[i] = y;
                    }
                }
            }
        });
    }

    static void backward(float[] du, float[] ddelta, float[] da, float[] dbm, float[] dcm, float[] dDSkip,
                         float[] dz, float[] dDBias, float[] dout, float[] ckpt, float[] u, float[] delta,
                         float[] a, float[] bm, float[] cm, float[] dSkip, float[] z, float[] dBias,
                         boolean softplus, int batch, int seqLen, int d, int n, int chunk) {
        int nb = blocks(d), nChunks = (seqLen + chunk - 1) / chunk, rows = batch * seqLen;
        // per-task partial sums, reduced in a fixed order below
        float[] pB = dbm == null ? null : new float[nb * rows * n];
        float[] pC = dcm == null ? null : new float[nb * rows * n];
        float[] pA = da == null ? null : new float[batch * d * n];
        float[] pD = dDSkip == null ? null : new float[batch * d];
        float[] pBias = dDBias == null ? null : new float[batch * d];
        Parallel.forRange(batch * nb, 1, (lo, hi) -> {
            for (int task = lo; task < hi; task++) {
                int b = task / nb, blk = task % nb, d0 = blk * DBLK, d1 = Math.min(d, d0 + DBLK), nd = d1 - d0;
                int sz = nd * n;
                float[] hs = new float[(chunk + 1) * sz];   // hs[j] = state after step t0+j-1 (j = 0: checkpoint)
                float[] es = new float[chunk * sz];         // exp(δ·A) of each step, kept from the recompute
                float[] ys = new float[chunk * nd];         // Σ_n C·h per step and channel
                float[] dls = new float[chunk * nd];        // δ after bias and softplus
                float[] dh = new float[sz];                 // ∂L/∂h_t flowing back from later steps
                for (int k = nChunks - 1; k >= 0; k--) {
                    int t0 = k * chunk, t1 = Math.min(seqLen, t0 + chunk);
                    System.arraycopy(ckpt, ((b * nChunks + k) * d + d0) * n, hs, 0, sz);
                    for (int t = t0; t < t1; t++) {
                        int j = t - t0, row = b * seqLen + t, rb = row * n, prev = j * sz, cur = prev + sz;
                        for (int dd = 0; dd < nd; dd++) {
                            int ch = d0 + dd, i = row * d + ch, ab = ch * n;
                            float dl = delta[i] + (dBias == null ? 0f : dBias[ch]);
                            if (softplus) dl = softplus(dl);
                            dls[j * nd + dd] = dl;
                            float dub = dl * u[i], y = 0f;
                            int eb = j * sz + dd * n;
                            for (int s = 0; s < n; s++) {
                                float e = FastExp.exp(dl * a[ab + s]);
                                es[eb + s] = e;
                                float v = e * hs[prev + dd * n + s] + dub * bm[rb + s];
                                hs[cur + dd * n + s] = v;
                                y += cm[rb + s] * v;
                            }
                            ys[j * nd + dd] = y;
                        }
                    }
                    for (int t = t1 - 1; t >= t0; t--) {
                        int j = t - t0, row = b * seqLen + t, rb = row * n, prev = j * sz, cur = prev + sz;
                        int pb = (blk * rows + row) * n;
                        for (int dd = 0; dd < nd; dd++) {
                            int ch = d0 + dd, i = row * d + ch, ab = ch * n, hb = dd * n;
                            float dl = dls[j * nd + dd], uu = u[i], g = dout[i];
                            if (z != null) {
                                float ypre = ys[j * nd + dd] + (dSkip == null ? 0f : dSkip[ch] * uu);
                                if (dz != null) dz[i] += g * ypre * Silu.siluGrad(z[i]);
                                g *= Silu.silu(z[i]);
                            }
                            float duAcc = 0f, dDelta = 0f;
                            if (dSkip != null) {
                                duAcc += g * dSkip[ch];
                                if (pD != null) pD[b * d + ch] += g * uu;
                            }
                            int eb = j * sz + hb;
                            for (int s = 0; s < n; s++) {
                                float ht = hs[cur + hb + s], hp = hs[prev + hb + s], bs = bm[rb + s];
                                if (pC != null) pC[pb + s] += g * ht;
                                float dhn = dh[hb + s] + g * cm[rb + s];
                                float as = a[ab + s], dA = es[eb + s];
                                float ddA = dhn * hp * dA;       // ∂L/∂(δ·A) through exp
                                dDelta += ddA * as + dhn * bs * uu;
                                if (pA != null) pA[(b * d + ch) * n + s] += ddA * dl;
                                if (pB != null) pB[pb + s] += dhn * dl * uu;
                                duAcc += dhn * dl * bs;
                                dh[hb + s] = dhn * dA;
                            }
                            if (du != null) du[i] += duAcc;
                            if (softplus) {
                                float raw = delta[i] + (dBias == null ? 0f : dBias[ch]);
                                dDelta *= softplusGrad(raw);
                            }
                            if (ddelta != null) ddelta[i] += dDelta;
                            if (pBias != null) pBias[b * d + ch] += dDelta;
                        }
                    }
                }
            }
        });
        if (pB != null || pC != null) {
            Parallel.forRange(rows, 64, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    for (int blk = 0; blk < nb; blk++) {
                        int pb = (blk * rows + r) * n;
                        for (int s = 0; s < n; s++) {
                            if (pB != null) dbm[r * n + s] += pB[pb + s];
                            if (pC != null) dcm[r * n + s] += pC[pb + s];
                        }
                    }
                }
            });
        }
        if (pA != null) sumOverBatch(da, pA, batch, d * n);
        if (pD != null) sumOverBatch(dDSkip, pD, batch, d);
        if (pBias != null) sumOverBatch(dDBias, pBias, batch, d);
    }

    private static void sumOverBatch(float[] dst, float[] part, int batch, int len) {
        Parallel.forRange(len, 256, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float s = 0f;
                for (int b = 0; b < batch; b++) s += part[b * len + i];
                dst[i] += s;
            }
        });
    }

    static void step(float[] out, float[] state, float[] u, float[] delta, float[] a, float[] bm, float[] cm,
                     float[] dSkip, float[] z, float[] dBias, boolean softplus, int batch, int d, int n) {
        Parallel.forRange(batch * d, 64, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int b = i / d, ch = i % d, rb = b * n, hb = i * n, ab = ch * n;
                float dl = delta[i] + (dBias == null ? 0f : dBias[ch]);
                if (softplus) dl = softplus(dl);
                float uu = u[i], dub = dl * uu, y = 0f;
                for (int s = 0; s < n; s++) {
                    float v = FastExp.exp(dl * a[ab + s]) * state[hb + s] + dub * bm[rb + s];
                    state[hb + s] = v;
                    y += cm[rb + s] * v;
                }
                if (dSkip != null) y += dSkip[ch] * uu;
                if (z != null) y *= Silu.silu(z[i]);
                out[i] = y;
            }
        });
    }
}
