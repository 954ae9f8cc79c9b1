package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * out[N,O] = in[N,I]·W[O,I]ᵀ + b. Each product is a register-blocked Simd.gemm over a block of rows where the
 * vector module is on; the plain loops below (an axpy over a contiguous row at a time) define it and are what the
 * float64 twin runs. Reductions run in a fixed order so results do not depend on the thread count.
 */
final class Linear {
    private static final int ROWS_GRAIN = 16;
    private static final int BLOCK = 64;
    /**
     * Below this many rows (decoding: one row per sequence) each output is one dot product with a contiguous row of
     * W, split over outputs: no Wᵀ copy (O·I floats a call; 154 MB for Pythia's 50k-wide LM head, once per token),
     * and every thread busy even on a single row, which the row-split GEMM path would give to one thread.
     */
    static final int DOT_ROWS = ROWS_GRAIN;
    /**
     * Row splits between threads fall on multiples of the GEMM kernel's 6-row tile: a chunk of 8 rows ran as a 6-row
     * tile and two single-row passes, each a chain of dependent FMAs, so with 2 threads the weight gradient of a
     * 64-wide layer (8 output rows a chunk) spent most of its time in those 2 rows. The split does not change the
     * bits: every element sums its products in the same order whatever the blocking.
     */
    private static final int TILE = 6;

    private Linear() {
    }

    /** Parallel.forRange over [0, n) in chunks of at least minChunk, cut at multiples of TILE. */
    private static void forTiles(int n, int minChunk, Parallel.Range body) {
        int groups = (n + TILE - 1) / TILE;
        Parallel.forRange(groups, Math.max(1, minChunk / TILE), (glo, ghi) -> body.run(glo * TILE, Math.min(n, ghi * TILE)));
    }

    static void forward(float[] out, float[] in, float[] w, float[] b, int n, int ni, int no) {
        if (n < DOT_ROWS) {
            Parallel.forRange(no, 32, (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    float bias = b == null ? 0f : b[o];
                    for (int r = 0; r < n; r++) out[r * no + o] = Simd.dot(in, r * ni, w, o * ni, ni) + bias;
                }
            });
            return;
        }
        float[] wt = new float[ni * no];                   // Wᵀ, so each input element scales one contiguous row
        for (int o = 0; o < no; o++)
            for (int i = 0; i < ni; i++) wt[i * no + o] = w[o * ni + i];
        forTiles(n, ROWS_GRAIN, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                if (b != null) System.arraycopy(b, 0, out, r * no, no);
                else java.util.Arrays.fill(out, r * no, (r + 1) * no, 0f);
            }
            if (Simd.gemm(out, lo * no, no, in, lo * ni, ni, 1, wt, 0, no, hi - lo, ni, no)) return;
            for (int r = lo; r < hi; r++) {
                int ob = r * no, ib = r * ni;
                for (int i = 0; i < ni; i++) {
                    float a = in[ib + i];
                    if (a != 0f) Simd.axpy(out, ob, a, wt, i * no, no);
                }
            }
        });
    }

    private static final int BIAS_COLS = 64;

    /**
     * db[lo, hi) += Σ over rows of dout's columns lo..hi−1, in row order per column, as a row-at-a-time axpy with
     * a = 1 (exact: fma(1, x, y) rounds once, like y + x): contiguous columns instead of a strided walk per column,
     * and the same sums however the columns are split.
     */
    private static void biasGrad(float[] db, float[] dout, int n, int no, int lo, int hi) {
        float[] bias = new float[hi - lo];
        for (int r = 0; r < n; r++) Simd.axpy(bias, 0, 1f, dout, r * no + lo, hi - lo);
        for (int o = lo; o < hi; o++) db[o] += bias[o - lo];
    }

    /** Inputs narrower than this take {@link #narrowWeightGrad}'s way (Mamba's dt_proj: dt_rank = 4 inputs). */
    private static final int NARROW_IN = 16;

    /**
     * dW += doutᵀ·in for a narrow input, as (dW)ᵀ += inᵀ·dout: ni rows of (dW)ᵀ, each as wide as the outputs, instead
     * of no rows of ni columns each, which Simd.gemm ran as a padded tail with ni of a vector's W lanes in use (11
     * GFLOP/s at dt_proj's 4 × 128 on 2 threads). Each element is still summed over the rows in order by fused
     * multiply-adds of the same two factors (fma(a, b, c) = fma(b, a, c)) from dW's value: the same bits. False,
     * doing nothing, where Simd.gemm does not run (the plain loop below it then does).
     */
    private static boolean narrowWeightGrad(float[] dw, float[] dout, float[] in, int n, int ni, int no) {
        float[] dwt = new float[ni * no];
        for (int o = 0; o < no; o++)
            for (int i = 0; i < ni; i++) dwt[i * no + o] = dw[o * ni + i];
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        // columns in blocks of 32 (two AVX-512 vectors, four AVX2 ones): each block is one register-blocked pass
        Parallel.forRange((no + 31) / 32, 1, (blo, bhi) -> {
            int lo = blo * 32, hi = Math.min(no, bhi * 32);
            if (Simd.gemm(dwt, lo, no, in, 0, 1, ni, dout, lo, no, ni, n, hi - lo)) ran.set(true);
        });
        if (!ran.get()) return false;
        for (int o = 0; o < no; o++)
            for (int i = 0; i < ni; i++) dw[o * ni + i] = dwt[i * no + o];
        return true;
    }

    /**
     * Accumulates dW += doutᵀ·in, db += Σ dout, din += dout·W; any of the three may be null. zeroFirst: din is a
     * deferred zero (CpuTensor.claimZero), filled here a block of rows at a time just before its product.
     */
    static void backward(float[] din, float[] dw, float[] db, float[] dout, float[] in, float[] w,
                         int n, int ni, int no, boolean zeroFirst) {
        if (dw != null || db != null) {
            // Where the weight gradient runs on Simd.gemm (every tile or none: it depends only on the element
            // type), the bias gradient follows in its own pass over blocks of BIAS_COLS columns; inside the
            // weight gradient's tiles it summed 6–12 columns a row, a vector and a scalar tail 2,048 times a tile.
            java.util.concurrent.atomic.AtomicBoolean gemm = new java.util.concurrent.atomic.AtomicBoolean();
            if (dw != null && ni < NARROW_IN && no >= 2 * ni && narrowWeightGrad(dw, dout, in, n, ni, no))
                gemm.set(true);
            else forTiles(no, 4, (lo, hi) -> {
                // dW[lo..hi) += (doutᵀ)[lo..hi)·in, doutᵀ read in place (row stride 1, column stride no)
                if (dw != null && Simd.gemm(dw, lo * ni, ni, dout, lo, 1, no, in, 0, ni, hi - lo, n, ni)) {
                    gemm.set(true);
                    return;
                }
                for (int nb = 0; nb < n; nb += BLOCK) {            // a block of input rows stays in cache
                    int ne = Math.min(n, nb + BLOCK);
                    for (int o = lo; o < hi; o++) {
                        float bias = 0f;
                        for (int r = nb; r < ne; r++) {
                            float g = dout[r * no + o];
                            bias += g;
                            if (dw != null && g != 0f) Simd.axpy(dw, o * ni, g, in, r * ni, ni);
                        }
                        if (db != null) db[o] += bias;
                    }
                }
            });
            if (db != null && gemm.get()) Parallel.forRange(no, BIAS_COLS, (lo, hi) -> biasGrad(db, dout, n, no, lo, hi));
        }
        if (din != null) {
            forTiles(n, ROWS_GRAIN, (lo, hi) -> {
                if (zeroFirst) java.util.Arrays.fill(din, lo * ni, hi * ni, 0f);
                if (Simd.gemm(din, lo * ni, ni, dout, lo * no, no, 1, w, 0, ni, hi - lo, no, ni)) return;
                for (int r = lo; r < hi; r++) {
                    int ib = r * ni, gb = r * no;
                    for (int o = 0; o < no; o++) {
                        float g = dout[gb + o];
                        if (g != 0f) Simd.axpy(din, ib, g, w, o * ni, ni);
                    }
                }
            });
        }
    }
}
