package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * Mamba's selective scan (mamba_ssm selective_scan_ref semantics, real A, time-varying B and C), forward,
 * backward and one decoding step; see Backend#scanForward for the formulas and layouts.
 *
 * <p>Work is split into tasks of (sequence, block of {@link #DBLK} channels): parallel over both, sequential
 * over time. The forward saves the state entering every chunk of {@code chunk} steps; the backward walks the
 * chunks newest first, recomputes the chunk's states (and their exp(δ·A) factors) from its checkpoint into
 * per-task buffers of about 2·chunk·DBLK·N floats, whatever the sequence length, and runs the adjoint
 * recurrence back through them. Gradients of B and C (shared by all channels) are summed per (task, step) into
 * [channel blocks, rows, N] partials, those of A, D, delta_bias (shared by all sequences) per sequence, then
 * reduced in a fixed order, so the result does not depend on the number of threads.
 */
final class Scan {
    /** Channels per task; also the reduction grouping of dB and dC, so it must not depend on thread count. */
    static final int DBLK = 16;

    private Scan() {
    }

    static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    private static final float EXP_MINUS_20 = (float) Math.exp(-20.0);

    /** d softplus / dx with torch's threshold (1 above 20). */
    static float softplusGrad(float x) {
        return x > 20f ? 1f : (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** {@link #softplusGrad} of delta + bias for one step of a block of channels, the exponentials in one vector pass. */
    private static void softplusGrads(float[] sg, float[] delta, float[] dBias, int i0, int d0, int nd) {
        for (int dd = 0; dd < nd; dd++) sg[dd] = -(delta[i0 + dd] + (dBias == null ? 0f : dBias[d0 + dd]));
        Simd.exp(sg, 0, nd);
        for (int dd = 0; dd < nd; dd++) sg[dd] = sg[dd] < EXP_MINUS_20 ? 1f : 1f / (1f + sg[dd]);  // x > 20: torch's threshold
    }

    private static int blocks(int d) {
        return (d + DBLK - 1) / DBLK;
    }

    /** A's rows for channels d0..d0+nd−1, transposed to [N][nd] so the innermost loops run over channels. */
    private static float[] aBlock(float[] a, int d0, int nd, int n) {
        float[] at = new float[n * nd];
        for (int dd = 0; dd < nd; dd++)
            for (int s = 0; s < n; s++) at[s * nd + dd] = a[(d0 + dd) * n + s];
        return at;
    }

    /** δ for one step of a block of channels: delta + bias, then softplus (this loop; Simd.softplus its vector form). */
    private static void deltas(float[] dl, float[] delta, float[] dBias, boolean softplus, int i0, int d0, int nd) {
        for (int dd = 0; dd < nd; dd++) dl[dd] = delta[i0 + dd] + (dBias == null ? 0f : dBias[d0 + dd]);
        if (softplus && !Simd.softplus(dl, 0, nd))
            for (int dd = 0; dd < nd; dd++) dl[dd] = softplus(dl[dd]);
    }

    /**
     * One step of the recurrence for a block of channels, states laid out [N][nd]: e = exp(δ·A) (kept for the
     * backward), hOut = e·hIn + δu·B, y = Σ_s C·hOut (s in order); hIn may be hOut. This loop defines the step;
     * Simd.scanAdvance is its vector form.
     */
    static void advance(float[] at, float[] dl, float[] e, int eb, float[] hIn, int hib, float[] hOut, int hob,
                        float[] dub, float[] bm, float[] cm, int rb, float[] y, int nd, int n) {
        java.util.Arrays.fill(y, 0, nd, 0f);
        for (int s = 0; s < n; s++) {
            float bs = bm[rb + s], cs = cm[rb + s];
            int sb = s * nd;
            for (int dd = 0; dd < nd; dd++) {
                float ex = (float) Math.exp(dl[dd] * at[sb + dd]);
                e[eb + sb + dd] = ex;
                float v = ex * hIn[hib + sb + dd] + dub[dd] * bs;
                hOut[hob + sb + dd] = v;
                y[dd] += cs * v;
            }
        }
    }

    /**
     * The adjoint of one step over all states. With g = ∂L/∂y, the state gradient dh (from later steps, [N][nd])
     * becomes dhn = dh + g·C and is carried back as dhn·e; per channel it adds to dDelta (∂L/∂δ after softplus),
     * duAcc (∂L/∂u) and dA ([N][nd], may be null); per state, Σ_channels g·h to pC[pb+s] and Σ_channels dhn·δ·u to
     * pB[pb+s] (either may be null). hs holds the state after the step at cur and before it at prev, es the step's
     * exp(δ·A) at prev, dls its δ at jd. Simd.scanAdjoint is its vector form.
     */
    static void adjoint(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls, int jd,
                        float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta, float[] duAcc,
                        float[] dA, float[] pB, float[] pC, int pb, int nd, int n) {
        for (int s = 0; s < n; s++) {
            float bs = bm[rb + s], cs = cm[rb + s], accB = 0f, accC = 0f;
            int sb = s * nd;
            for (int dd = 0; dd < nd; dd++) {
                float ht = hs[cur + sb + dd], hp = hs[prev + sb + dd], ex = es[prev + sb + dd], dlv = dls[jd + dd];
                accC += g[dd] * ht;
                float dhn = dh[sb + dd] + g[dd] * cs;
                float ddA = dhn * hp * ex;           // ∂L/∂(δ·A) through exp
                dDelta[dd] += ddA * at[sb + dd] + dhn * bs * uu[dd];
                if (dA != null) dA[sb + dd] += ddA * dlv;
                float t = dhn * dlv;
                accB += t * uu[dd];
                duAcc[dd] += t * bs;
                dh[sb + dd] = dhn * ex;
            }
            if (pC != null) pC[pb + s] += accC;
            if (pB != null) pB[pb + s] += accB;
        }
    }

    static void forward(float[] out, float[] ckpt, float[] u, float[] delta, float[] a, float[] bm, float[] cm,
                        float[] dSkip, float[] z, float[] dBias, boolean softplus, int batch, int seqLen, int d,
                        int n, int chunk) {
        int nb = blocks(d), nChunks = (seqLen + chunk - 1) / chunk;
        Parallel.forRange(batch * nb, 1, (lo, hi) -> {
            for (int task = lo; task < hi; task++) {
                int b = task / nb, d0 = (task % nb) * DBLK, d1 = Math.min(d, d0 + DBLK), nd = d1 - d0;
                float[] at = aBlock(a, d0, nd, n), h = new float[n * nd], ex = new float[n * nd];
                float[] dl = new float[nd], dub = new float[nd], y = new float[nd];
                for (int t = 0; t < seqLen; t++) {
                    if (t % chunk == 0) saveCheckpoint(ckpt, ((b * nChunks + t / chunk) * d + d0) * n, h, nd, n);
                    int row = b * seqLen + t, i0 = row * d + d0;
                    deltas(dl, delta, dBias, softplus, i0, d0, nd);
                    for (int dd = 0; dd < nd; dd++) dub[dd] = dl[dd] * u[i0 + dd];
                    if (!Simd.scanAdvance(at, dl, ex, 0, h, 0, h, 0, dub, bm, cm, row * n, y, nd, n))
                        advance(at, dl, ex, 0, h, 0, h, 0, dub, bm, cm, row * n, y, nd, n);
                    for (int dd = 0; dd < nd; dd++) {
                        int i = i0 + dd;
                        float v = y[dd];
                        if (dSkip != null) v += dSkip[d0 + dd] * u[i];
                        if (z != null) v *= Silu.silu(z[i]);
                        out[i] = v;
                    }
                }
            }
        });
    }

    /** [N][nd] state → the checkpoint's [nd][N] (channel-major, like the decoding state). */
    private static void saveCheckpoint(float[] ckpt, int cb, float[] h, int nd, int n) {
        for (int dd = 0; dd < nd; dd++)
            for (int s = 0; s < n; s++) ckpt[cb + dd * n + s] = h[s * nd + dd];
    }

    private static void loadCheckpoint(float[] h, float[] ckpt, int cb, int nd, int n) {
        for (int dd = 0; dd < nd; dd++)
            for (int s = 0; s < n; s++) h[s * nd + dd] = ckpt[cb + dd * n + s];
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
                float[] at = aBlock(a, d0, nd, n);
                float[] hs = new float[(chunk + 1) * sz];   // hs[j] = state after step t0+j−1 (j = 0: checkpoint), [N][nd]
                float[] es = new float[chunk * sz];         // exp(δ·A) of each step, kept from the recompute
                float[] ys = new float[chunk * nd];         // Σ_n C·h per step and channel
                float[] dls = new float[chunk * nd];        // δ after bias and softplus
                float[] dh = new float[sz];                 // ∂L/∂h_t flowing back from later steps, [N][nd]
                float[] dl = new float[nd], dub = new float[nd], y = new float[nd];
                float[] g = new float[nd], uu = new float[nd], dDelta = new float[nd], duAcc = new float[nd];
                float[] sg = softplus ? new float[nd] : null;  // softplus' at δ before softplus
                float[] dA = pA == null ? null : new float[sz];
                for (int k = nChunks - 1; k >= 0; k--) {
                    int t0 = k * chunk, t1 = Math.min(seqLen, t0 + chunk);
                    loadCheckpoint(hs, ckpt, ((b * nChunks + k) * d + d0) * n, nd, n);
                    for (int t = t0; t < t1; t++) {
                        int j = t - t0, row = b * seqLen + t, i0 = row * d + d0;
                        deltas(dl, delta, dBias, softplus, i0, d0, nd);
                        for (int dd = 0; dd < nd; dd++) dub[dd] = dl[dd] * u[i0 + dd];
                        if (!Simd.scanAdvance(at, dl, es, j * sz, hs, j * sz, hs, (j + 1) * sz, dub, bm, cm, row * n, y, nd, n))
                            advance(at, dl, es, j * sz, hs, j * sz, hs, (j + 1) * sz, dub, bm, cm, row * n, y, nd, n);
                        System.arraycopy(dl, 0, dls, j * nd, nd);
                        System.arraycopy(y, 0, ys, j * nd, nd);
                    }
                    for (int t = t1 - 1; t >= t0; t--) {
                        int j = t - t0, row = b * seqLen + t, rb = row * n, prev = j * sz, cur = prev + sz, i0 = row * d + d0;
                        int pb = (blk * rows + row) * n, jd = j * nd;
                        for (int dd = 0; dd < nd; dd++) {
                            int i = i0 + dd, ch = d0 + dd;
                            float gg = dout[i];
                            uu[dd] = u[i];
                            if (z != null) {
                                float ypre = ys[jd + dd] + (dSkip == null ? 0f : dSkip[ch] * uu[dd]);
                                if (dz != null) dz[i] += gg * ypre * Silu.siluGrad(z[i]);
                                gg *= Silu.silu(z[i]);
                            }
                            g[dd] = gg;
                            dDelta[dd] = 0f;
                            duAcc[dd] = 0f;
                            if (dSkip != null) {
                                duAcc[dd] = gg * dSkip[ch];
                                if (pD != null) pD[b * d + ch] += gg * uu[dd];
                            }
                        }
                        if (!Simd.scanAdjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB,
                                pC, pb, nd, n))
                            adjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb, nd, n);
                        if (softplus) softplusGrads(sg, delta, dBias, i0, d0, nd);
                        for (int dd = 0; dd < nd; dd++) {
                            int i = i0 + dd, ch = d0 + dd;
                            if (du != null) du[i] += duAcc[dd];
                            float dd1 = dDelta[dd];
                            if (softplus) dd1 *= sg[dd];
                            if (ddelta != null) ddelta[i] += dd1;
                            if (pBias != null) pBias[b * d + ch] += dd1;
                        }
                    }
                }
                if (dA != null)
                    for (int dd = 0; dd < nd; dd++)
                        for (int s = 0; s < n; s++) pA[(b * d + d0 + dd) * n + s] = dA[s * nd + dd];
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
                    float v = (float) Math.exp(dl * a[ab + s]) * state[hb + s] + dub * bm[rb + s];
                    state[hb + s] = v;
                    y += cm[rb + s] * v;
                }
                if (dSkip != null) y += dSkip[ch] * uu;
                if (z != null) y *= Silu.silu(z[i]);
                out[i] = y;
            }
        });
    }

    /** seqLen steps of {@link #step} per (sequence, channel), its arithmetic exactly; state in and out. */
    static void prefill(float[] out, float[] state, float[] u, float[] delta, float[] a, float[] bm, float[] cm,
                        float[] dSkip, float[] z, float[] dBias, boolean softplus, int batch, int seqLen, int d, int n) {
        Parallel.forRange(batch * d, 16, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int b = i / d, ch = i % d, hb = i * n, ab = ch * n;
                for (int t = 0; t < seqLen; t++) {
                    int r = b * seqLen + t, j = r * d + ch, rb = r * n;
                    float dl = delta[j] + (dBias == null ? 0f : dBias[ch]);
                    if (softplus) dl = softplus(dl);
                    float uu = u[j], dub = dl * uu, y = 0f;
                    for (int s = 0; s < n; s++) {
                        float v = (float) Math.exp(dl * a[ab + s]) * state[hb + s] + dub * bm[rb + s];
                        state[hb + s] = v;
                        y += cm[rb + s] * v;
                    }
                    if (dSkip != null) y += dSkip[ch] * uu;
                    if (z != null) y *= Silu.silu(z[j]);
                    out[j] = y;
                }
            }
        });
    }
}
