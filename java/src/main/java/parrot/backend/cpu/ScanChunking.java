package parrot.backend.cpu;

/**
 * A Java model of the CUDA selective scan's work decomposition (cuda-kernels/scan.cu), step for step, so that its
 * chunking, carries and combine orders are checked against the sequential reference ({@link Scan}) on the CPU, in
 * float32 and in the float64 twin, before (and without) a GPU. Not used for training.
 *
 * <p>What it mirrors: a "block" is one sequence × {@link #LANES} consecutive channels (lane = channel). Time goes
 * in chunks of {@code items·warps} steps (the kernel: 8·8 = 64 = the checkpoint interval), each cut into
 * {@code warps} segments of {@code items} consecutive steps, one per warp. Per state n:
 * <ol>
 *   <li>every (segment, lane) composes its steps' (a, b) = (exp(δA), δ·B·u) into (P, Q): P ← a·P, Q ← a·Q + b;</li>
 *   <li>its entering state is the chunk's carry pushed through the (P, Q) of the segments before it, in order;</li>
 *   <li>it re-runs its steps from there, accumulating y += C·h; the last segment's final state is the next
 *       chunk's carry, saved as the checkpoint (the state entering each chunk, zeros for chunk 0).</li>
 * </ol>
 * The backward takes the chunks newest first, recomputes the states from the checkpoint the same way, and runs the
 * adjoint recurrence dh_t = exp(δ_{t+1}A)·dh_{t+1} + g_t·C_t in reverse the same way (segment aggregates (P, q),
 * the carry from the later chunk pushed through the later segments, last to first). dB and dC are summed over
 * the block's 32 lanes in the warp reduce-scatter's tree ({@link #laneSum}), then over blocks in order; dA, D and
 * delta_bias are summed per (sequence, segment) over the chunks, newest first, then over (sequence, segment).
 */
public final class ScanChunking {
    /** Channels per block (lanes of a warp). */
    public static final int LANES = 32;
    /** The CUDA kernel's steps per thread and segments (warps) per chunk: chunk 64. */
    public static final int ITEMS = 8, WARPS = 8;

    private ScanChunking() {
    }

    /** Sum over 32 lanes in the order of the kernel's warp reduce-scatter: pairs across lane bit 4, then 3, …, 0. */
    static float laneSum(float[] v) {
        float[] s = v.clone();
        for (int o = LANES / 2; o > 0; o >>= 1)
            for (int l = 0; l < o; l++) s[l] = s[l] + s[l + o];
        return s[0];
    }

    private static float delta(float[] delta, float[] dBias, boolean softplus, int i, int ch) {
        float v = delta[i] + (dBias == null ? 0f : dBias[ch]);
        return softplus ? Scan.softplus(v) : v;
    }

    /** As Backend#scanForward, with the kernel's decomposition; checkpoints every items·warps steps. */
    public static void forward(float[] out, float[] ckpt, float[] u, float[] delta, float[] a, float[] bm, float[] cm,
                               float[] dSkip, float[] z, float[] dBias, boolean softplus, int batch, int seqLen, int d,
                               int n, int items, int warps) {
        int chunk = items * warps, nChunks = (seqLen + chunk - 1) / chunk, nb = (d + LANES - 1) / LANES;
        for (int b = 0; b < batch; b++) {
            for (int blk = 0; blk < nb; blk++) {
                int d0 = blk * LANES;
                float[][] carry = new float[n][LANES];
                for (int k = 0; k < nChunks; k++) {
                    int t0 = k * chunk;
                    for (int l = 0; l < LANES && d0 + l < d; l++)
                        for (int s = 0; s < n; s++) ckpt[((b * nChunks + k) * d + d0 + l) * n + s] = carry[s][l];
                    float[][][] dl = new float[warps][LANES][items], uu = new float[warps][LANES][items];
                    float[][][] y = new float[warps][LANES][items];
                    for (int w = 0; w < warps; w++)
                        for (int l = 0; l < LANES; l++)
                            for (int j = 0; j < items; j++) {
                                int t = t0 + w * items + j, ch = d0 + l;
                                if (ch >= d || t >= seqLen) continue;          // δ = 0, u = 0: the identity step
                                int i = (b * seqLen + t) * d + ch;
                                dl[w][l][j] = delta(delta, dBias, softplus, i, ch);
                                uu[w][l][j] = u[i];
                            }
                    for (int s = 0; s < n; s++) {
                        float[][] pp = new float[warps][LANES], qq = new float[warps][LANES];
                        float[][][] ae = new float[warps][LANES][items], bb = new float[warps][LANES][items];
                        for (int w = 0; w < warps; w++)
                            for (int l = 0; l < LANES; l++) {
                                float as = d0 + l < d ? a[(d0 + l) * n + s] : 0f, p = 1f, q = 0f;
                                for (int j = 0; j < items; j++) {
                                    int t = t0 + w * items + j;
                                    float bv = t < seqLen ? bm[(b * seqLen + t) * n + s] : 0f;
                                    ae[w][l][j] = (float) Math.exp(dl[w][l][j] * as);
                                    bb[w][l][j] = dl[w][l][j] * uu[w][l][j] * bv;
                                    p = ae[w][l][j] * p;
                                    q = ae[w][l][j] * q + bb[w][l][j];
                                }
                                pp[w][l] = p;
                                qq[w][l] = q;
                            }
                        float[] next = new float[LANES];
                        for (int w = 0; w < warps; w++)
                            for (int l = 0; l < LANES; l++) {
                                float h = carry[s][l];
                                for (int v = 0; v < w; v++) h = pp[v][l] * h + qq[v][l];
                                for (int j = 0; j < items; j++) {
                                    int t = t0 + w * items + j;
                                    float cv = t < seqLen ? cm[(b * seqLen + t) * n + s] : 0f;
                                    h = ae[w][l][j] * h + bb[w][l][j];
                                    y[w][l][j] += cv * h;
                                }
                                if (w == warps - 1) next[l] = h;
                            }
                        carry[s] = next;
                    }
                    for (int w = 0; w < warps; w++)
                        for (int l = 0; l < LANES; l++)
                            for (int j = 0; j < items; j++) {
                                int t = t0 + w * items + j, ch = d0 + l;
                                if (ch >= d || t >= seqLen) continue;
                                int i = (b * seqLen + t) * d + ch;
                                float v = y[w][l][j];
                                if (dSkip != null) v += dSkip[ch] * uu[w][l][j];
                                if (z != null) v *= Silu.silu(z[i]);
                                out[i] = v;
                            }
                }
            }
        }
    }

    /** As Backend#scanBackward (accumulating, nulls skipped), with the kernel's decomposition and reduction order. */
    public static void backward(float[] du, float[] ddelta, float[] da, float[] dbm, float[] dcm, float[] dDSkip,
                                float[] dz, float[] dDBias, float[] dout, float[] ckpt, float[] u, float[] delta,
                                float[] a, float[] bm, float[] cm, float[] dSkip, float[] z, float[] dBias,
                                boolean softplus, int batch, int seqLen, int d, int n, int items, int warps) {
        int chunk = items * warps, nChunks = (seqLen + chunk - 1) / chunk, nb = (d + LANES - 1) / LANES;
        int rows = batch * seqLen;
        float[] pB = new float[nb * rows * n], pC = new float[nb * rows * n];
        float[] pA = new float[batch * warps * n * d], pD = new float[batch * warps * d], pBias = new float[batch * warps * d];
        for (int b = 0; b < batch; b++) {
            for (int blk = 0; blk < nb; blk++) {
                int d0 = blk * LANES;
                float[][] rcarry = new float[n][LANES];        // a·dh entering from the later chunk
                float[][] accD = new float[warps][LANES], accBias = new float[warps][LANES];
                for (int k = nChunks - 1; k >= 0; k--) {
                    int t0 = k * chunk;
                    float[][][] dl = new float[warps][LANES][items], uu = new float[warps][LANES][items];
                    float[][][] g = new float[warps][LANES][items], y = new float[warps][LANES][items];
                    float[][][] gu = new float[warps][LANES][items], gd = new float[warps][LANES][items];
                    for (int w = 0; w < warps; w++)
                        for (int l = 0; l < LANES; l++)
                            for (int j = 0; j < items; j++) {
                                int t = t0 + w * items + j, ch = d0 + l;
                                if (ch >= d || t >= seqLen) continue;
                                int i = (b * seqLen + t) * d + ch;
                                dl[w][l][j] = delta(delta, dBias, softplus, i, ch);
                                uu[w][l][j] = u[i];
                                float gg = dout[i];
                                if (z != null) gg *= Silu.silu(z[i]);
                                g[w][l][j] = gg;
                            }
                    for (int s = 0; s < n; s++) {
                        float[][] pp = new float[warps][LANES], qq = new float[warps][LANES], rq = new float[warps][LANES];
                        float[][][] ae = new float[warps][LANES][items], hp = new float[warps][LANES][items];
                        float[][][] vB = new float[warps][LANES][items], vC = new float[warps][LANES][items];
                        float[] bcol = new float[chunk], ccol = new float[chunk];
                        for (int r = 0; r < chunk; r++) {
                            int t = t0 + r;
                            if (t < seqLen) {
                                bcol[r] = bm[(b * seqLen + t) * n + s];
                                ccol[r] = cm[(b * seqLen + t) * n + s];
                            }
                        }
                        float[] as = new float[LANES];
                        for (int l = 0; l < LANES; l++) as[l] = d0 + l < d ? a[(d0 + l) * n + s] : 0f;
                        // forward over each segment
                        for (int w = 0; w < warps; w++)
                            for (int l = 0; l < LANES; l++) {
                                float p = 1f, q = 0f;
                                for (int j = 0; j < items; j++) {
                                    ae[w][l][j] = (float) Math.exp(dl[w][l][j] * as[l]);
                                    p = ae[w][l][j] * p;
                                    q = ae[w][l][j] * q + dl[w][l][j] * uu[w][l][j] * bcol[w * items + j];
                                }
                                pp[w][l] = p;
                                qq[w][l] = q;
                            }
                        // states from the checkpoint; the reverse aggregate of each segment
                        for (int w = 0; w < warps; w++)
                            for (int l = 0; l < LANES; l++) {
                                int ch = d0 + l;
                                float h = ch < d ? ckpt[((b * nChunks + k) * d + ch) * n + s] : 0f;
                                for (int v = 0; v < w; v++) h = pp[v][l] * h + qq[v][l];
                                for (int j = 0; j < items; j++) {
                                    int r = w * items + j;
                                    hp[w][l][j] = h;
                                    h = ae[w][l][j] * h + dl[w][l][j] * uu[w][l][j] * bcol[r];
                                    y[w][l][j] += ccol[r] * h;
                                    vC[w][l][j] = g[w][l][j] * h;
                                }
                                float q = 0f;
                                for (int j = items - 1; j >= 0; j--) q = ae[w][l][j] * (q + g[w][l][j] * ccol[w * items + j]);
                                rq[w][l] = q;
                            }
                        // the adjoint from the later chunk's carry, segments last to first
                        float[] nextR = new float[LANES];
                        for (int w = 0; w < warps; w++)
                            for (int l = 0; l < LANES; l++) {
                                float c = rcarry[s][l];
                                for (int v = warps - 1; v > w; v--) c = pp[v][l] * c + rq[v][l];
                                float dAp = 0f;
                                for (int j = items - 1; j >= 0; j--) {
                                    int r = w * items + j;
                                    float bv = bcol[r];
                                    float dh = c + g[w][l][j] * ccol[r];
                                    gu[w][l][j] += dh * dl[w][l][j] * bv;
                                    float ddA = dh * hp[w][l][j] * ae[w][l][j];
                                    gd[w][l][j] += ddA * as[l] + dh * bv * uu[w][l][j];
                                    dAp += ddA * dl[w][l][j];
                                    vB[w][l][j] = dh * dl[w][l][j] * uu[w][l][j];
                                    c = dh * ae[w][l][j];
                                }
                                if (w == 0) nextR[l] = c;
                                int ch = d0 + l;
                                if (ch < d) {
                                    int pi = ((b * warps + w) * n + s) * d + ch;
                                    pA[pi] = (k == nChunks - 1 ? 0f : pA[pi]) + dAp;
                                }
                            }
                        rcarry[s] = nextR;
                        // this block's channel sums of dB and dC, per step
                        float[] lanes = new float[LANES];
                        for (int w = 0; w < warps; w++)
                            for (int j = 0; j < items; j++) {
                                int t = t0 + w * items + j;
                                if (t >= seqLen) continue;
                                int pi = (blk * rows + b * seqLen + t) * n + s;
                                for (int l = 0; l < LANES; l++) lanes[l] = vB[w][l][j];
                                pB[pi] = laneSum(lanes);
                                for (int l = 0; l < LANES; l++) lanes[l] = vC[w][l][j];
                                pC[pi] = laneSum(lanes);
                            }
                    }
                    for (int w = 0; w < warps; w++)
                        for (int l = 0; l < LANES; l++)
                            for (int j = 0; j < items; j++) {
                                int t = t0 + w * items + j, ch = d0 + l;
                                if (ch >= d || t >= seqLen) continue;
                                int i = (b * seqLen + t) * d + ch;
                                if (dz != null) {
                                    float ypre = y[w][l][j] + (dSkip == null ? 0f : dSkip[ch] * uu[w][l][j]);
                                    dz[i] += dout[i] * ypre * Silu.siluGrad(z[i]);
                                }
                                if (dSkip != null) {
                                    gu[w][l][j] += g[w][l][j] * dSkip[ch];
                                    accD[w][l] += g[w][l][j] * uu[w][l][j];
                                }
                                if (du != null) du[i] += gu[w][l][j];
                                float dd = gd[w][l][j];
                                if (softplus) dd *= Scan.softplusGrad(delta[i] + (dBias == null ? 0f : dBias[ch]));
                                if (ddelta != null) ddelta[i] += dd;
                                accBias[w][l] += dd;
                            }
                }
                for (int w = 0; w < warps; w++)
                    for (int l = 0; l < LANES && d0 + l < d; l++) {
                        pD[(b * warps + w) * d + d0 + l] = accD[w][l];
                        pBias[(b * warps + w) * d + d0 + l] = accBias[w][l];
                    }
            }
        }
        // the reduce kernels: channel blocks in order; (sequence, segment) in order
        for (int i = 0; i < rows * n; i++) {
            float sb = 0f, sc = 0f;
            for (int blk = 0; blk < nb; blk++) {
                sb += pB[blk * rows * n + i];
                sc += pC[blk * rows * n + i];
            }
            if (dbm != null) dbm[i] += sb;
            if (dcm != null) dcm[i] += sc;
        }
        for (int ch = 0; ch < d; ch++) {
            for (int s = 0; s < n; s++) {
                float sa = 0f;
                for (int b = 0; b < batch; b++)
                    for (int w = 0; w < warps; w++) sa += pA[((b * warps + w) * n + s) * d + ch];
                if (da != null) da[ch * n + s] += sa;
            }
            float sd = 0f, sbias = 0f;
            for (int b = 0; b < batch; b++)
                for (int w = 0; w < warps; w++) {
                    sd += pD[(b * warps + w) * d + ch];
                    sbias += pBias[(b * warps + w) * d + ch];
                }
            if (dDSkip != null) dDSkip[ch] += sd;
            if (dDBias != null) dDBias[ch] += sbias;
        }
    }
}
