package parrot.backend.cpu;

import parrot.backend.AttentionSpec;
import parrot.backend.cpu.common.Parallel;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Java model of the fused causal attention kernel (FlashAttention-2 tiling), line for line what the CUDA kernel
 * does, so its tiling, skipping, masking and online softmax are checked on the CPU against {@link Attention}.
 * The kernel is cuda-kernels/flash_attention.cu (its launcher takes Br and Bc from {@link #defaultBr} and
 * {@link #defaultBc}; the CUDA emulator checks it visits exactly the tiles this model visits). Same argument layout as {@link Attention}: qkv [B·T, H·3·hd] (per head q|k|v), out
 * [B·T, H·hd], lse [B, H, T], caches [B, H, maxLen, hd]; backward accumulates into dqkv.
 *
 * <h2>Tiles</h2>
 * Br query rows × Bc key columns; {@link #forHeadDim} gives the kernel's constants (64×64 for hd ≤ 64). A tile
 * row q (or column k) past the end of the sequence is padding: loaded as zeros, masked, never stored.
 * Element (q, k) is <em>visible</em> iff {@code k ≤ q < T} and, for a window w > 0, {@code k ≥ q − w + 1}.
 * <ul>
 *   <li>query tile qt: rows q0 = qt·Br .. q1 = min(q0 + Br, T) − 1;</li>
 *   <li>its key tiles: {@code firstKeyTile = firstKey(h, q0) / Bc} (the first tile meeting ANY row's window, the
 *       window of row q0 reaching furthest left) to {@code lastKeyTile = q1 / Bc} (the diagonal tile), every tile
 *       in between visited, none outside (tiles wholly outside every row's window are never loaded);</li>
 *   <li>key tile kt: keys k0 = kt·Bc .. k1 = min(k0 + Bc, T) − 1; its query tiles are the exact inverse:
 *       {@code firstQueryTile = k0 / Br} to {@code lastQueryTile = min(T − 1, k1 + w − 1) / Br} (T − 1 when w = 0);</li>
 *   <li>a visited tile needs no mask iff q0 + Br ≤ T, k0 + Bc − 1 ≤ q0 and (w = 0 or k0 ≥ q0 + Br − w): the
 *       kernel branches on this per block (uniformly) and otherwise sets invisible scores to −∞ (forward) or
 *       probabilities to 0 (backward).</li>
 * </ul>
 * Every visited tile holds at least one visible element and every tile holding one is visited.
 *
 * <h2>Arithmetic</h2>
 * float32 throughout, as the kernel's FP32 accumulators: dot products accumulate over d = 0..hd−1, scores are
 * {@code dot·scale − slope·(q − k)} with scale = (float) 1/√hd, exponentials are expf (modelled as the float
 * rounding of the double exp). Tensor-core/warp-shuffle summation orders in the kernel differ from these loops
 * only by float rounding; the tests bound the model against the float64 reference with a float32-sized error.
 */
public final class AttentionTiling {
    /** Decode split: keys per chunk of the cache. */
    public static final int DEFAULT_SPLIT = 128;

    private final int br, bc, split;
    private final Counters counters = new Counters();

    /** What the model did, counted so tests can assert the work of windowed heads is O(T·w), not O(T²). */
    public static final class Counters {
        /** (query tile, key tile) blocks the forward visited, and those of them that needed the mask. */
        public final LongAdder forwardTiles = new LongAdder(), forwardMaskedTiles = new LongAdder();
        /** Rows of a visited forward tile with no visible key so far (running max −∞): the −∞ guard engaged. */
        public final LongAdder guardedRows = new LongAdder();
        /** (key tile, query tile) blocks the backward visited, and those needing the mask. */
        public final LongAdder backwardTiles = new LongAdder(), backwardMaskedTiles = new LongAdder();
        /** Decode chunks computed (phase 1 blocks that did not exit early). */
        public final LongAdder decodeChunks = new LongAdder();

        public void reset() {
            forwardTiles.reset();
            forwardMaskedTiles.reset();
            guardedRows.reset();
            backwardTiles.reset();
            backwardMaskedTiles.reset();
            decodeChunks.reset();
        }
    }

    public AttentionTiling(int br, int bc, int split) {
        if (br < 1 || bc < 1 || split < 1)
            throw new IllegalArgumentException("tile sizes and split must be positive: " + br + "x" + bc + ", " + split);
        this.br = br;
        this.bc = bc;
        this.split = split;
    }

    /** The kernel's constants: 64×64 for hd ≤ 64, 64×32 for hd ≤ 128, 32×32 above; decode split 128 keys. */
    public static AttentionTiling forHeadDim(int hd) {
        return new AttentionTiling(defaultBr(hd), defaultBc(hd), DEFAULT_SPLIT);
    }

    public static int defaultBr(int hd) {
        return hd <= 128 ? 64 : 32;
    }

    public static int defaultBc(int hd) {
        return hd <= 64 ? 64 : 32;
    }

    public int br() {
        return br;
    }

    public int bc() {
        return bc;
    }

    public int split() {
        return split;
    }

    public Counters counters() {
        return counters;
    }

    // ---- tile ranges (the kernel computes exactly these at the top of each block) ----------------------------

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** First key tile query tile qt visits: the one holding the leftmost key of row q0's window. */
    public static int firstKeyTile(AttentionSpec spec, int h, int qt, int br, int bc) {
        return spec.firstKey(h, qt * br) / bc;
    }

    /** Last key tile query tile qt visits: the diagonal tile, holding key q1 = min(q0 + Br, T) − 1. */
    public static int lastKeyTile(int qt, int br, int bc, int seqLen) {
        return (Math.min(qt * br + br, seqLen) - 1) / bc;
    }

    /** First query tile that sees key tile kt: the one holding row k0 (causality). */
    public static int firstQueryTile(int kt, int br, int bc) {
        return kt * bc / br;
    }

    /** Last query tile that sees key tile kt: the one holding row k1 + w − 1 (window), or the last (w = 0). */
    public static int lastQueryTile(AttentionSpec spec, int h, int kt, int br, int bc, int seqLen) {
        int w = spec.window(h), k1 = Math.min(kt * bc + bc, seqLen) - 1;
        long last = w > 0 ? Math.min((long) seqLen - 1, (long) k1 + w - 1) : seqLen - 1;
        return (int) (last / br);
    }

    /** Whether element (q, k) of a head with window w takes part. */
    static boolean visible(int w, int q, int k, int seqLen) {
        return q < seqLen && k <= q && (w <= 0 || k > q - w);
    }

    /** Whether tile (q0, k0) has an invisible element, padding included. */
    public static boolean needsMask(int w, int q0, int k0, int br, int bc, int seqLen) {
        return q0 + br > seqLen || k0 + bc - 1 > q0 || (w > 0 && (long) k0 < (long) q0 + br - w);
    }

    // ---- forward ------------------------------------------------------------------------------------------

    /**
     * Grid (B·H, ⌈T/Br⌉), one block per (bh, qt). The block loads its Q tile, sets m = −∞, l = 0, acc = 0 per
     * row, walks key tiles kt = firstKeyTile .. lastKeyTile in increasing order, and per tile and row:
     * S = Q Kᵀ·scale − slope·(q − k) (−∞ where invisible), m_new = max(m, rowmax S),
     * m_use = (m_new == −∞ ? 0 : m_new) (the guard: a row with nothing visible yet gives P = 0, never NaN),
     * if m_new &gt; m: l ·= exp(m − m_use), acc ·= exp(m − m_use); P = exp(S − m_use); l += rowsum P;
     * acc += P V; m = m_new. At the end O = acc / l, lse = m + log l for real rows.
     */
    public void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int batch, int seqLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        float scale = (float) (1 / Math.sqrt(hd));
        int nQt = ceilDiv(seqLen, br);
        Parallel.forRange(batch * heads * nQt, 1, (lo, hi) -> {
            float[] qs = new float[br * hd], ks = new float[bc * hd], vs = new float[bc * hd], s = new float[bc];
            float[] acc = new float[br * hd], m = new float[br], l = new float[br];
            for (int blk = lo; blk < hi; blk++) {
                int bh = blk / nQt, qt = blk % nQt, b = bh / heads, h = bh % heads, w = spec.window(h);
                float slope = (float) spec.slope(h);
                int q0 = qt * br;
                loadTile(qs, qkv, b, h, 0, q0, br, hd, width, seqLen);
                Arrays.fill(m, Float.NEGATIVE_INFINITY);
                Arrays.fill(l, 0f);
                Arrays.fill(acc, 0f);
                int kt0 = firstKeyTile(spec, h, qt, br, bc), kt1 = lastKeyTile(qt, br, bc, seqLen);
                for (int kt = kt0; kt <= kt1; kt++) {
                    int k0 = kt * bc;
                    loadTile(ks, qkv, b, h, hd, k0, bc, hd, width, seqLen);
                    loadTile(vs, qkv, b, h, 2 * hd, k0, bc, hd, width, seqLen);
                    boolean mask = needsMask(w, q0, k0, br, bc, seqLen);
                    counters.forwardTiles.increment();
                    if (mask) counters.forwardMaskedTiles.increment();
                    for (int r = 0; r < br; r++) {
                        int q = q0 + r;
                        float rowMax = Float.NEGATIVE_INFINITY;
                        for (int c = 0; c < bc; c++) {
                            int k = k0 + c;
                            float sc;
                            if (mask && !visible(w, q, k, seqLen)) {
                                sc = Float.NEGATIVE_INFINITY;
                            } else {
                                float dot = 0f;
                                for (int d = 0; d < hd; d++) dot += qs[r * hd + d] * ks[c * hd + d];
                                sc = dot * scale - slope * (q - k);
                            }
                            s[c] = sc;
                            rowMax = Math.max(rowMax, sc);
                        }
                        float mOld = m[r], mNew = Math.max(mOld, rowMax);
                        if (mNew == Float.NEGATIVE_INFINITY) counters.guardedRows.increment();
                        float mUse = mNew == Float.NEGATIVE_INFINITY ? 0f : mNew;
                        if (mNew > mOld) {                       // the max rose: rescale (exp(-inf) = 0 on the first)
                            float alpha = (float) Math.exp(mOld - mUse);
                            l[r] *= alpha;
                            for (int d = 0; d < hd; d++) acc[r * hd + d] *= alpha;
                        }
                        float rowSum = 0f;
                        for (int c = 0; c < bc; c++) {
                            float p = (float) Math.exp(s[c] - mUse);
                            s[c] = p;
                            rowSum += p;
                        }
                        l[r] += rowSum;
                        for (int c = 0; c < bc; c++) {
                            float p = s[c];
                            if (p == 0f) continue;                         // masked (or underflowed): adds zeros
                            for (int d = 0; d < hd; d++) acc[r * hd + d] += p * vs[c * hd + d];
                        }
                        m[r] = mNew;
                    }
                }
                for (int r = 0; r < br && q0 + r < seqLen; r++) {
                    int q = q0 + r, oo = (b * seqLen + q) * owidth + h * hd;
                    lse[bh * seqLen + q] = m[r] + (float) Math.log(l[r]);
                    for (int d = 0; d < hd; d++) out[oo + d] = acc[r * hd + d] / l[r];
                }
            }
        });
    }

    /** Loads rows t0 .. t0+rows−1 of one head's q (part 0), k (hd) or v (2·hd) slice; rows past T are zeros. */
    private static void loadTile(float[] dst, float[] qkv, int b, int h, int part, int t0, int rows, int hd, int width,
                                 int seqLen) {
        for (int r = 0; r < rows; r++) {
            int t = t0 + r;
            if (t < seqLen) System.arraycopy(qkv, (b * seqLen + t) * width + h * 3 * hd + part, dst, r * hd, hd);
            else Arrays.fill(dst, r * hd, r * hd + hd, 0f);
        }
    }

    // ---- backward -----------------------------------------------------------------------------------------

    /**
     * FlashAttention-2 backward. Pre-pass (its own kernel, one thread block per row group):
     * D[bh, q] = Σ_d dO[q, d]·O[q, d]. Main kernel: grid (B·H, ⌈T/Bc⌉), one block per (bh, kt), holding K, V
     * and accumulators dK = dV = 0 for its key tile; it walks query tiles qt = firstQueryTile .. lastQueryTile in
     * increasing order and per tile: P = exp(S − lse) (0 where invisible), dV += Pᵀ dO, dP = dO Vᵀ,
     * dS = P∘(dP − D), dK += dSᵀ Q, and dQ_tile = (dS K)·scale, which the kernel atomicAdds (float) into
     * dqkv's q slice. At the end dqkv's k slice += dK·scale and v slice += dV (owned rows, plain read-add-write).
     * <p>
     * The kernel's atomics land in whatever order blocks finish, so its dQ is run-to-run nondeterministic at the
     * float-rounding level. This model keeps the parallelism over (b, h) only and walks a head's key tiles in
     * increasing order, adding each tile's dQ_tile as one atomicAdd would: deterministic, and one of the orders
     * the kernel may take.
     */
    public void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int batch, int seqLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        float scale = (float) (1 / Math.sqrt(hd));
        int nKt = ceilDiv(seqLen, bc);
        float[] rowDot = new float[batch * heads * seqLen];
        Parallel.forRange(batch * heads * seqLen, 64, (lo, hi) -> {     // pre-pass D = rowsum(dO∘O)
            for (int i = lo; i < hi; i++) {
                int bh = i / seqLen, q = i % seqLen, b = bh / heads, h = bh % heads;
                int oo = (b * seqLen + q) * owidth + h * hd;
                float dsum = 0f;
                for (int d = 0; d < hd; d++) dsum += dout[oo + d] * out[oo + d];
                rowDot[i] = dsum;
            }
        });
        Parallel.forRange(batch * heads, 1, (lo, hi) -> {
            float[] ks = new float[bc * hd], vs = new float[bc * hd], qs = new float[br * hd], dos = new float[br * hd];
            float[] dk = new float[bc * hd], dv = new float[bc * hd], p = new float[br * bc], ds = new float[br * bc];
            float[] lseT = new float[br], dT = new float[br], dqRow = new float[hd];
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, w = spec.window(h);
                float slope = (float) spec.slope(h);
                for (int kt = 0; kt < nKt; kt++) {                         // blocks (bh, kt); serial here, see above
                    int k0 = kt * bc;
                    loadTile(ks, qkv, b, h, hd, k0, bc, hd, width, seqLen);
                    loadTile(vs, qkv, b, h, 2 * hd, k0, bc, hd, width, seqLen);
                    Arrays.fill(dk, 0f);
                    Arrays.fill(dv, 0f);
                    int qt0 = firstQueryTile(kt, br, bc), qt1 = lastQueryTile(spec, h, kt, br, bc, seqLen);
                    for (int qt = qt0; qt <= qt1; qt++) {
                        int q0 = qt * br;
                        loadTile(qs, qkv, b, h, 0, q0, br, hd, width, seqLen);
                        for (int r = 0; r < br; r++) {                     // dO, lse and D rows; padding zero
                            int q = q0 + r;
                            if (q < seqLen) {
                                System.arraycopy(dout, (b * seqLen + q) * owidth + h * hd, dos, r * hd, hd);
                                lseT[r] = lse[bh * seqLen + q];
                                dT[r] = rowDot[bh * seqLen + q];
                            } else {
                                Arrays.fill(dos, r * hd, r * hd + hd, 0f);
                                lseT[r] = 0f;
                                dT[r] = 0f;
                            }
                        }
                        boolean mask = needsMask(w, q0, k0, br, bc, seqLen);
                        counters.backwardTiles.increment();
                        if (mask) counters.backwardMaskedTiles.increment();
                        for (int r = 0; r < br; r++) {                     // P = exp(S − lse), dS = P∘(dP − D)
                            int q = q0 + r;
                            for (int c = 0; c < bc; c++) {
                                int k = k0 + c;
                                if (mask && !visible(w, q, k, seqLen)) {
                                    p[r * bc + c] = 0f;
                                    ds[r * bc + c] = 0f;
                                    continue;
                                }
                                float dot = 0f, dp = 0f;
                                for (int d = 0; d < hd; d++) dot += qs[r * hd + d] * ks[c * hd + d];
                                for (int d = 0; d < hd; d++) dp += dos[r * hd + d] * vs[c * hd + d];
                                float pv = (float) Math.exp(dot * scale - slope * (q - k) - lseT[r]);
                                p[r * bc + c] = pv;
                                ds[r * bc + c] = pv * (dp - dT[r]);
                            }
                        }
                        for (int c = 0; c < bc; c++) {                     // dV += Pᵀ dO, dK += dSᵀ Q
                            for (int r = 0; r < br; r++) {
                                float pv = p[r * bc + c], dsv = ds[r * bc + c];
                                if (pv == 0f && dsv == 0f) continue;       // masked: adds exact zeros
                                for (int d = 0; d < hd; d++) {
                                    dv[c * hd + d] += pv * dos[r * hd + d];
                                    dk[c * hd + d] += dsv * qs[r * hd + d];
                                }
                            }
                        }
                        for (int r = 0; r < br && q0 + r < seqLen; r++) {  // dQ_tile = dS K·scale, atomicAdd
                            int qo = (b * seqLen + q0 + r) * width + h * 3 * hd;
                            Arrays.fill(dqRow, 0f);                        // each d sums over c = 0..Bc−1 in order
                            for (int c = 0; c < bc; c++) {
                                float dsv = ds[r * bc + c];
                                if (dsv == 0f) continue;
                                for (int d = 0; d < hd; d++) dqRow[d] += dsv * ks[c * hd + d];
                            }
                            for (int d = 0; d < hd; d++) dqkv[qo + d] += dqRow[d] * scale;
                        }
                    }
                    for (int c = 0; c < bc && k0 + c < seqLen; c++) {
                        int ko = (b * seqLen + k0 + c) * width + h * 3 * hd + hd, vo = ko + hd;
                        for (int d = 0; d < hd; d++) {
                            dqkv[ko + d] += dk[c * hd + d] * scale;
                            dqkv[vo + d] += dv[c * hd + d];
                        }
                    }
                }
            }
        });
    }

    // ---- decode (split-KV) --------------------------------------------------------------------------------

    /**
     * One query per sequence at position pos against the caches [B, H, maxLen, hd]. Three launches:
     * <ol>
     *   <li>append: k and v of the token are written into the caches at pos (stream-ordered before phase 1, so
     *       no block reads a half-written row);</li>
     *   <li>phase 1, grid (B·H, J) with J = max over heads of the chunk count: chunk c covers keys
     *       [c·split, c·split + split) ∩ [firstKey(h, pos), pos]; head h uses chunks c0 = firstKey(h, pos)/split
     *       .. c1 = pos/split and block j takes chunk c0 + j, exiting at once when it is past c1. A chunk computes
     *       its scores, m_c = max, P = exp(S − m_c), l_c = Σ P, acc_c = Σ P v and writes (m_c, l_c, acc_c) to
     *       scratch [B·H, J, hd + 2];</li>
     *   <li>phase 2, grid (B·H): M = max_c m_c, f_c = exp(m_c − M) (0 for a chunk with m_c = −∞),
     *       l = Σ f_c l_c, acc = Σ f_c acc_c in chunk order, out = acc / l.</li>
     * </ol>
     */
    public void decode(float[] out, float[] qkv, float[] kCache, float[] vCache, AttentionSpec spec, int batch, int pos,
                       int maxLen) {
        int heads = spec.heads(), hd = spec.headDim(), width = 3 * hd * heads, owidth = hd * heads;
        if (pos < 0 || pos >= maxLen) throw new IllegalArgumentException("decode position " + pos + " outside cache of " + maxLen);
        float scale = (float) (1 / Math.sqrt(hd));
        int bhN = batch * heads;
        for (int bh = 0; bh < bhN; bh++) {                                 // launch 1: append
            int b = bh / heads, h = bh % heads, qo = b * width + h * 3 * hd, cache = bh * maxLen * hd;
            System.arraycopy(qkv, qo + hd, kCache, cache + pos * hd, hd);
            System.arraycopy(qkv, qo + 2 * hd, vCache, cache + pos * hd, hd);
        }
        int chunks = 0;
        for (int h = 0; h < heads; h++)
            chunks = Math.max(chunks, pos / split - spec.firstKey(h, pos) / split + 1);
        final int nJ = chunks;
        float[] pm = new float[bhN * nJ], pl = new float[bhN * nJ], pacc = new float[bhN * nJ * hd];
        Parallel.forRange(bhN * nJ, 1, (lo, hi) -> {                        // launch 2: phase 1, blocks (bh, j)
            float[] s = new float[Math.min(split, maxLen)];
            for (int blk = lo; blk < hi; blk++) {
                int bh = blk / nJ, j = blk % nJ, b = bh / heads, h = bh % heads;
                int kLo = spec.firstKey(h, pos), c = kLo / split + j;
                pm[blk] = Float.NEGATIVE_INFINITY;                          // an exited block leaves (−∞, 0, 0)
                if (c > pos / split) continue;
                counters.decodeChunks.increment();
                int qo = b * width + h * 3 * hd, cache = bh * maxLen * hd;
                int from = Math.max(kLo, c * split), to = Math.min(pos, c * split + split - 1);
                float slope = (float) spec.slope(h), mc = Float.NEGATIVE_INFINITY;
                for (int k = from; k <= to; k++) {
                    float dot = 0f;
                    for (int d = 0; d < hd; d++) dot += qkv[qo + d] * kCache[cache + k * hd + d];
                    s[k - from] = dot * scale - slope * (pos - k);
                    mc = Math.max(mc, s[k - from]);
                }
                float mUse = mc == Float.NEGATIVE_INFINITY ? 0f : mc, lc = 0f;
                for (int k = from; k <= to; k++) {
                    float p = (float) Math.exp(s[k - from] - mUse);
                    s[k - from] = p;
                    lc += p;
                }
                for (int k = from; k <= to; k++) {
                    float p = s[k - from];
                    for (int d = 0; d < hd; d++) pacc[blk * hd + d] += p * vCache[cache + k * hd + d];
                }
                pm[blk] = mc;
                pl[blk] = lc;
            }
        });
        Parallel.forRange(bhN, 1, (lo, hi) -> {                             // launch 3: phase 2, combine
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / heads, h = bh % heads, oo = b * owidth + h * hd;
                float mMax = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < nJ; j++) mMax = Math.max(mMax, pm[bh * nJ + j]);
                float l = 0f;
                Arrays.fill(out, oo, oo + hd, 0f);
                for (int j = 0; j < nJ; j++) {
                    float mc = pm[bh * nJ + j];
                    float f = mc == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(mc - mMax);
                    l += f * pl[bh * nJ + j];
                    for (int d = 0; d < hd; d++) out[oo + d] += f * pacc[(bh * nJ + j) * hd + d];
                }
                for (int d = 0; d < hd; d++) out[oo + d] /= l;
            }
        });
    }
}
