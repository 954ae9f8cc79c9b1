package parrot.backend.cpu;

import parrot.backend.cpu.common.CacheLines;
import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.ScanSimd;

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
    /**
     * Channels per task; also the reduction grouping of dB and dC, so it must not depend on thread count. Two
     * vectors' worth (16 with AVX2's 8 floats, 32 with AVX-512's 16), so that the adjoint runs its two-vector
     * kernel (ScanVectorOps.adjointPair, whose two dDelta chains overlap); at least 16 without the vector module.
     */
    static final int DBLK = Math.max(16, 2 * ScanSimd.lanes());

    private Scan() {
    }

    static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    /** d softplus / dx with torch's threshold (1 above 20). */
    static float softplusGrad(float x) {
        return x > 20f ? 1f : (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    private static int blocks(int d) {
        return (d + DBLK - 1) / DBLK;
    }

    /**
     * Per-thread scratch of the scan's tasks, grown on demand and kept over tasks and calls: a backward task needs
     * about 2·chunk·DBLK·N floats (140 KB at the quickstart's shapes), and allocating them per task made ~40 MB of
     * zeroed garbage per layer and step. Every buffer is written before it is read within a task, except those a
     * task zeroes itself (the state, dh, dA), so reuse does not change any result.
     */
    private static final class Work {
        private final float[][] bufs = new float[16][];

        float[] get(int slot, int size) {
            float[] b = bufs[slot];
            if (b == null || b.length < size) bufs[slot] = b = new float[size];
            return b;
        }

        float[] zeros(int slot, int size) {
            float[] b = get(slot, size);
            java.util.Arrays.fill(b, 0, size, 0f);
            return b;
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);
    /**
     * The backward's partial sums, kept per calling thread from one call to the next and zeroed by the tasks that
     * fill them: allocated per call (~1.3 MB at the quickstart's Mamba layer), the JVM zeroed them on the calling
     * thread while the other workers waited, the largest single-threaded stretch of a Mamba step (JFR).
     */
    private static final ThreadLocal<Work> PARTIALS = ThreadLocal.withInitial(Work::new);

    /** A's rows for channels d0..d0+nd−1, transposed to [N][nd] into at[off..], so the innermost loops run over channels. */
    private static float[] aBlock(float[] at, int off, float[] a, int d0, int nd, int n) {
        for (int dd = 0; dd < nd; dd++)
            for (int s = 0; s < n; s++) at[off + s * nd + dd] = a[(d0 + dd) * n + s];
        return at;
    }

    /**
     * The adjoint of one step over all states. With g = ∂L/∂y, the state gradient dh (from later steps, [N][nd])
     * becomes dhn = dh + g·C and is carried back as dhn·e; per channel it adds to dDelta (∂L/∂δ after softplus),
     * duAcc (∂L/∂u) and dA ([N][nd], may be null); per state, Σ_channels g·h into pC[pb+s] and Σ_channels dhn·δ·u
     * into pB[pb+s] (assigned; either may be null). hs holds the state after the step at cur and before it at prev, es the step's
     * exp(δ·A) at prev, dls its δ at jd. ScanSimd.adjoint is its vector form.
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
            if (pC != null) pC[pb + s] = accC;
            if (pB != null) pB[pb + s] = accB;
        }
    }

    /**
     * δ for len steps of a block of channels, [len][nd] in dls, from delta's rows: delta + bias, then softplus
     * (ScanSimd.softplus where the vector module is on, this loop's Math.log1p otherwise). With sg given, also
     * softplus' = σ(delta + bias) there (as {@link #softplusGrad}; 1 without softplus).
     */
    private static void chunkDeltas(float[] dls, float[] sg, float[] delta, float[] dBias, boolean softplus, int rowI0,
                                    int d, int d0, int nd, int len) {
        if (!ScanSimd.biasRows(dls, delta, dBias, rowI0, d, d0, nd, len))
            for (int j = 0; j < len; j++) {
                int i0 = rowI0 + j * d, jb = j * nd;
                for (int dd = 0; dd < nd; dd++) dls[jb + dd] = delta[i0 + dd] + (dBias == null ? 0f : dBias[d0 + dd]);
            }
        int m = len * nd;
        if (!softplus) {
            if (sg != null) java.util.Arrays.fill(sg, 0, m, 1f);
            return;
        }
        if (ScanSimd.softplus(dls, sg, 0, m)) return;
        for (int i = 0; i < m; i++) {
            if (sg != null) sg[i] = softplusGrad(dls[i]);
            dls[i] = softplus(dls[i]);
        }
    }

    /** [len][nd] rows of a [rows, d] tensor (from row rowI0/d, channels d0..d0+nd−1) into dst. */
    private static void gather(float[] dst, float[] src, int rowI0, int d, int nd, int len) {
        for (int j = 0; j < len; j++) System.arraycopy(src, rowI0 + j * d, dst, j * nd, nd);
    }

    /** e[eb + j·sz + s·nd + dd] = exp(δ_j·A): with {@link #recur}, the plain loops ScanSimd.advance stands for. */
    private static void decays(float[] e, int eb, float[] dls, float[] at, int atOff, int len, int nd, int n) {
        int sz = n * nd;
        for (int j = 0; j < len; j++)
            for (int s = 0; s < n; s++)
                for (int dd = 0; dd < nd; dd++)
                    e[eb + j * sz + s * nd + dd] = (float) Math.exp(dls[j * nd + dd] * at[atOff + s * nd + dd]);
    }

    /**
     * len steps of the recurrence for a block of channels, states [N][nd], from the state at hs[off]: h ← e·h +
     * δu·B, y = Σ_s C·h (s in order) into ys[j·nd], with the factors at e[eOff + j·sz]; with keep the state after
     * step j goes to hs[off + (j+1)·sz], else it stays at hs[off]. This loop defines the step; ScanSimd.advance is its vector form with the factors
     * (fused multiply-adds, a polynomial exp).
     */
    private static void recur(float[] e, int eOff, float[] hs, int off, boolean keep, float[] dls, float[] us,
                              float[] bm, float[] cm, int rb, float[] ys, int len, int nd, int n) {
        int sz = n * nd;
        for (int j = 0; j < len; j++) {
            int eb = eOff + j * sz, hi = off + (keep ? j * sz : 0), ho = keep ? hi + sz : hi, rj = rb + j * n;
            int db = j * nd;
            for (int dd = 0; dd < nd; dd++) ys[db + dd] = 0f;
            for (int s = 0; s < n; s++) {
                float bs = bm[rj + s], cs = cm[rj + s];
                for (int dd = 0; dd < nd; dd++) {
                    int i = s * nd + dd;
                    float v = e[eb + i] * hs[hi + i] + dls[db + dd] * us[db + dd] * bs;
                    hs[ho + i] = v;
                    ys[db + dd] += cs * v;
                }
            }
        }
    }

    /** σ(z) for len steps of a block of channels, [len][nd] (z's rows gathered first). */
    private static void gateSigmoids(float[] sz, float[] z, int rowI0, int d, int nd, int len) {
        gather(sz, z, rowI0, d, nd, len);
        int m = len * nd;
        if (!ScanSimd.sigmoid(sz, 0, m))
            for (int i = 0; i < m; i++) sz[i] = Silu.sigmoid(sz[i]);
    }

    static void forward(float[] out, float[] ckpt, float[] u, float[] delta, float[] a, float[] bm, float[] cm,
                        float[] dSkip, float[] z, float[] dBias, boolean softplus, int batch, int seqLen, int d,
                        int n, int chunk) {
        int nb = blocks(d), nChunks = (seqLen + chunk - 1) / chunk;
        Parallel.forRange(batch * nb, 1, (lo, hi) -> {
            Work w = WORK.get();
            for (int task = lo; task < hi; task++) {
                int b = task / nb, d0 = (task % nb) * DBLK, d1 = Math.min(d, d0 + DBLK), nd = d1 - d0, sz = n * nd;
                int steps = Math.min(chunk, seqLen);
                float[] at = aBlock(w.get(0, sz), 0, a, d0, nd, n), h = w.get(1, sz + 16);
                int ho = CacheLines.floatsToLine(h);           // the state on cache lines (a hint: same bits anywhere)
                java.util.Arrays.fill(h, ho, ho + sz, 0f);
                float[] es = null;                          // the plain loops' factors, made when they run
                float[] dls = w.get(2, steps * nd), us = w.get(3, steps * nd), ys = w.get(4, steps * nd);
                float[] sig = z == null ? null : w.get(5, steps * nd);
                for (int k = 0; k < nChunks; k++) {
                    int t0 = k * chunk, len = Math.min(seqLen, t0 + chunk) - t0, row0 = b * seqLen + t0;
                    int rowI0 = row0 * d + d0;
                    saveCheckpoint(ckpt, ((b * nChunks + k) * d + d0) * n, h, ho, nd, n);
                    chunkDeltas(dls, null, delta, dBias, softplus, rowI0, d, d0, nd, len);
                    gather(us, u, rowI0, d, nd, len);
                    if (!ScanSimd.advance(at, 0, dls, us, bm, cm, row0 * n, null, 0, h, ho, false, ys, len, nd, n)) {
                        if (es == null) es = w.get(6, steps * sz);
                        decays(es, 0, dls, at, 0, len, nd, n);
                        recur(es, 0, h, ho, false, dls, us, bm, cm, row0 * n, ys, len, nd, n);
                    }
                    if (sig != null) gateSigmoids(sig, z, rowI0, d, nd, len);
                    if (!ScanSimd.outputs(out, z, rowI0, d, ys, us, sig, dSkip, d0, nd, len))
                    for (int j = 0; j < len; j++) {
                        int i0 = rowI0 + j * d, jb = j * nd;
                        for (int dd = 0; dd < nd; dd++) {
                            int i = i0 + dd;
                            float v = ys[jb + dd];
                            if (dSkip != null) v += dSkip[d0 + dd] * us[jb + dd];
                            if (sig != null) v *= z[i] * sig[jb + dd];
                            out[i] = v;
                        }
                    }
                }
            }
        });
    }

    /** [N][nd] state at h[off] → the checkpoint's [nd][N] (channel-major, like the decoding state). */
    private static void saveCheckpoint(float[] ckpt, int cb, float[] h, int off, int nd, int n) {
        for (int dd = 0; dd < nd; dd++)
            for (int s = 0; s < n; s++) ckpt[cb + dd * n + s] = h[off + s * nd + dd];
    }

    private static void loadCheckpoint(float[] h, int off, float[] ckpt, int cb, int nd, int n) {
        for (int dd = 0; dd < nd; dd++)
            for (int s = 0; s < n; s++) h[off + s * nd + dd] = ckpt[cb + dd * n + s];
    }

    /** The least q >= p with q ≡ base + r (mod 512): a slice of the fused backward's buffer (see backward). */
    private static int place(int p, int base, int r) {
        return p + Math.floorMod(base + r - p, 512);
    }

    /**
     * Accumulates the scan's gradients. zeroFirst: du, dδ, dA, dB, dC and dz are deferred zeros
     * (CpuTensor.claimZeroAll): du, dδ and dz are assigned by the task that computes them (one write an element, so
     * no fill), dA, dB and dC filled by the worker that then sums into them.
     */
    static void backward(float[] du, float[] ddelta, float[] da, float[] dbm, float[] dcm, float[] dDSkip,
                         float[] dz, float[] dDBias, float[] dout, float[] ckpt, float[] u, float[] delta,
                         float[] a, float[] bm, float[] cm, float[] dSkip, float[] z, float[] dBias,
                         boolean softplus, int batch, int seqLen, int d, int n, int chunk, boolean zeroFirst) {
        int nb = blocks(d), nChunks = (seqLen + chunk - 1) / chunk, rows = batch * seqLen;
        // per-task partial sums, reduced in a fixed order below; each task assigns its parts of pA, pB and pC (one
        // (row, state) each per step) and zeroes its parts of pD and pBias, which sum over its steps
        Work part = PARTIALS.get();
        float[] pB = dbm == null ? null : part.get(0, nb * rows * n);
        float[] pC = dcm == null ? null : part.get(1, nb * rows * n);
        float[] pA = da == null ? null : part.get(2, batch * d * n);
        float[] pD = dDSkip == null ? null : part.get(3, batch * d);
        float[] pBias = dDBias == null ? null : part.get(4, batch * d);
        Parallel.forRange(batch * nb, 1, (lo, hi) -> {
            Work w = WORK.get();
            for (int task = lo; task < hi; task++) {
                int b = task / nb, blk = task % nb, d0 = blk * DBLK, d1 = Math.min(d, d0 + DBLK), nd = d1 - d0;
                int sz = nd * n, steps = Math.min(chunk, seqLen);
                if (pD != null) java.util.Arrays.fill(pD, b * d + d0, b * d + d1, 0f);
                if (pBias != null) java.util.Arrays.fill(pBias, b * d + d0, b * d + d1, 0f);
                float[] sgs = softplus ? w.get(6, steps * nd) : null;  // softplus' at δ before softplus
                boolean fused = ScanSimd.fusedChunk(nd, z, dz, du, ddelta, sgs, dSkip, pD, pBias, pA, pB, pC);
                // Per-state buffers: A [N][nd] (at), dh, dA; hs[j] = state after step t0+j−1 (j = 0: checkpoint),
                // es[j] = exp(δ·A) of step j kept from the recompute; the fused chunk's lane partials. For the fused
                // chunk all are slices of one array, each starting on a cache line and at its own offset modulo
                // 2 KiB (0, 320, 640, … bytes), so that no two of its streams, stepping 128 bytes a state, share a
                // line or the low address bits the load-store unit matches: placed apart like this its time stopped
                // depending on where the allocator put the buffers (CacheLines). Offsets do not change any result.
                float[] at, hs, es, dh, dA;
                int atOff = 0, hsOff = 0, esOff = 0, dhOff = 0, dAOff = 0, accOff = 0;
                if (fused) {
                    int accLen = 2 * steps * n * ScanSimd.lanes();
                    float[] ar = w.get(15, (2 * steps + 4) * sz + accLen + 6 * 512 + 16);
                    int base = CacheLines.floatsToLine(ar);
                    atOff = place(0, base, 0);
                    dhOff = place(atOff + sz, base, 80);
                    dAOff = place(dhOff + sz, base, 160);
                    hsOff = place(dAOff + sz, base, 240);
                    esOff = place(hsOff + (steps + 1) * sz, base, 320);
                    accOff = place(esOff + steps * sz, base, 400);
                    at = hs = es = dh = dA = ar;
                    java.util.Arrays.fill(ar, dhOff, dhOff + sz, 0f);
                    java.util.Arrays.fill(ar, dAOff, dAOff + sz, 0f);
                } else {
                    at = w.get(0, sz);
                    hs = w.get(1, (steps + 1) * sz);
                    es = w.get(2, steps * sz);
                    dh = w.zeros(8, sz);                    // ∂L/∂h_t flowing back from later steps, [N][nd]
                    dA = pA == null ? null : w.zeros(13, sz);
                }
                aBlock(at, atOff, a, d0, nd, n);
                float[] ys = w.get(3, steps * nd);         // Σ_n C·h per step and channel
                float[] dls = w.get(4, steps * nd);        // δ after bias and softplus
                float[] us = w.get(5, steps * nd);         // u, [steps][nd]
                float[] sig = z == null ? null : w.get(7, steps * nd); // σ(z)
                float[] g = w.get(9, nd), uu = w.get(10, nd), dDelta = w.get(11, nd), duAcc = w.get(12, nd);
                float[] acc = w.get(14, 2 * n * (ScanSimd.lanes() + 1));  // the adjoint kernel's carried sums
                float[][] io = fused ? new float[][]{dout, z, dz, du, ddelta, us, ys, sig, dls, sgs, dSkip, pD, pBias, hs,
                        bm, cm, pB, pC} : null;            // the fused chunk's arrays, the same for every chunk
                for (int k = nChunks - 1; k >= 0; k--) {
                    int t0 = k * chunk, len = Math.min(seqLen, t0 + chunk) - t0, row0 = b * seqLen + t0;
                    int rowI0 = row0 * d + d0;
                    loadCheckpoint(hs, hsOff, ckpt, ((b * nChunks + k) * d + d0) * n, nd, n);
                    chunkDeltas(dls, sgs, delta, dBias, softplus, rowI0, d, d0, nd, len);
                    gather(us, u, rowI0, d, nd, len);
                    if (!ScanSimd.advance(at, atOff, dls, us, bm, cm, row0 * n, es, esOff, hs, hsOff, true, ys, len, nd, n)) {
                        decays(es, esOff, dls, at, atOff, len, nd, n);
                        recur(es, esOff, hs, hsOff, true, dls, us, bm, cm, row0 * n, ys, len, nd, n);
                    }
                    if (sig != null) gateSigmoids(sig, z, rowI0, d, nd, len);
                    if (fused) {
                        int[] ix = {rowI0, d, d0, b * d + d0, row0 * n, (blk * rows + row0) * n, hsOff, esOff, dhOff,
                                atOff, dAOff, accOff};
                        ScanSimd.chunk(io, ix, zeroFirst, len, n);
                        continue;
                    }
                    for (int j = len - 1; j >= 0; j--) {
                        int row = row0 + j, rb = row * n, prev = j * sz, cur = prev + sz, i0 = row * d + d0;
                        int pb = (blk * rows + row) * n, jd = j * nd;
                        if (!ScanSimd.stepInputs(dout, z, dz, zeroFirst, i0, us, ys, sig, jd, dSkip, d0, pD, b * d + d0,
                                g, uu, dDelta, duAcc, nd))
                        for (int dd = 0; dd < nd; dd++) {
                            int i = i0 + dd, ch = d0 + dd;
                            float gg = dout[i];
                            uu[dd] = us[jd + dd];
                            if (sig != null) {
                                float ypre = ys[jd + dd] + (dSkip == null ? 0f : dSkip[ch] * uu[dd]);
                                float s = sig[jd + dd], x = z[i];
                                float gz = gg * ypre * (s * (1f + x * (1f - s)));
                                if (dz != null) dz[i] = zeroFirst ? gz : dz[i] + gz;
                                gg *= x * s;
                            }
                            g[dd] = gg;
                            dDelta[dd] = 0f;
                            duAcc[dd] = 0f;
                            if (dSkip != null) {
                                duAcc[dd] = gg * dSkip[ch];
                                if (pD != null) pD[b * d + ch] += gg * uu[dd];
                            }
                        }
                        if (!ScanSimd.adjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB,
                                pC, pb, nd, n, acc))
                            adjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb, nd, n);
                        if (!ScanSimd.stepOutputs(du, ddelta, zeroFirst, i0, duAcc, dDelta, sgs, jd, pBias, b * d + d0, nd))
                        for (int dd = 0; dd < nd; dd++) {
                            int i = i0 + dd, ch = d0 + dd;
                            if (du != null) du[i] = zeroFirst ? duAcc[dd] : du[i] + duAcc[dd];
                            float dd1 = dDelta[dd];
                            if (softplus) dd1 *= sgs[jd + dd];
                            if (ddelta != null) ddelta[i] = zeroFirst ? dd1 : ddelta[i] + dd1;
                            if (pBias != null) pBias[b * d + ch] += dd1;
                        }
                    }
                }
                if (dA != null)
                    for (int dd = 0; dd < nd; dd++)
                        for (int s = 0; s < n; s++) pA[(b * d + d0 + dd) * n + s] = dA[dAOff + s * nd + dd];
            }
        });
        if (pB != null || pC != null) {
            Parallel.forRange(rows, 64, (lo, hi) -> {
                if (zeroFirst) {
                    if (dbm != null) java.util.Arrays.fill(dbm, lo * n, hi * n, 0f);
                    if (dcm != null) java.util.Arrays.fill(dcm, lo * n, hi * n, 0f);
                }
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
        if (pA != null) sumOverBatch(da, pA, batch, d * n, zeroFirst);
        if (pD != null) sumOverBatch(dDSkip, pD, batch, d, false);
        if (pBias != null) sumOverBatch(dDBias, pBias, batch, d, false);
    }

    private static void sumOverBatch(float[] dst, float[] part, int batch, int len, boolean zeroFirst) {
        Parallel.forRange(len, 256, (lo, hi) -> {
            if (zeroFirst) java.util.Arrays.fill(dst, lo, hi, 0f);
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
