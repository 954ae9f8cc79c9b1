package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;

/**
 * out[N,O] = in[N,I]·W[O,I]ᵀ + b. Every inner loop is an axpy over a contiguous row, the shape HotSpot
 * vectorizes; reductions run in a fixed order so results do not depend on the thread count.
 */
final class Linear {
    private static final int ROWS_GRAIN = 16;
    private static final int BLOCK = 64;

    private Linear() {
    }

    static void forward(float[] out, float[] in, float[] w, float[] b, int n, int ni, int no) {
        float[] wt = new float[ni * no];
        for (int o = 0; o < no; o++)
            for (int i = 0; i < ni; i++) wt[i * no + o] = w[o * ni + i];
        Parallel.forRange((n + 3) / 4, Math.max(1, ROWS_GRAIN / 4), (lo, hi) -> {
            for (int blk = lo; blk < hi; blk++) {
                int r0 = blk * 4, r1 = Math.min(r0 + 4, n);
                for (int r = r0; r < r1; r++) {
                    if (b != null) System.arraycopy(b, 0, out, r * no, no);
                    else java.util.Arrays.fill(out, r * no, (r + 1) * no, 0f);
                }
                if (r1 - r0 == 4) forward4(out, in, wt, r0, ni, no);
                else for (int r = r0; r < r1; r++) forward1(out, in, wt, r, ni, no);
            }
        });
    }

    private static void forward4(float[] out, float[] in, float[] wt, int r, int ni, int no) {
        int o0 = r * no, o1 = o0 + no, o2 = o1 + no, o3 = o2 + no;
        int i0 = r * ni, i1 = i0 + ni, i2 = i1 + ni, i3 = i2 + ni;
        for (int i = 0; i < ni; i++) {
            float a0 = in[i0 + i], a1 = in[i1 + i], a2 = in[i2 + i], a3 = in[i3 + i];
            int wb = i * no;
            for (int o = 0; o < no; o++) {
                float wv = wt[wb + o];
                out[o0 + o] += a0 * wv;
                out[o1 + o] += a1 * wv;
                out[o2 + o] += a2 * wv;
                out[o3 + o] += a3 * wv;
            }
        }
    }

    private static void forward1(float[] out, float[] in, float[] wt, int r, int ni, int no) {
        int ob = r * no, ib = r * ni;
        for (int i = 0; i < ni; i++) {
            float a = in[ib + i];
            int wb = i * no;
            for (int o = 0; o < no; o++) out[ob + o] += a * wt[wb + o];
        }
    }

    /** Accumulates dW += doutᵀ·in, db += Σ dout, din += dout·W; any of the three may be null. */
    static void backward(float[] din, float[] dw, float[] db, float[] dout, float[] in, float[] w,
                         int n, int ni, int no) {
        if (dw != null || db != null) {
            Parallel.forRange(no, 4, (lo, hi) -> {
                for (int nb = 0; nb < n; nb += BLOCK) {
                    int ne = Math.min(n, nb + BLOCK);
                    for (int o = lo; o < hi; o++) {
                        float bias = 0f;
                        int wb = o * ni;
                        for (int r = nb; r < ne; r++) {
                            float g = dout[r * no + o];
                            bias += g;
                            if (dw == null || g == 0f) continue;
                            int ib = r * ni;
                            for (int i = 0; i < ni; i++) dw[wb + i] += g * in[ib + i];
                        }
                        if (db != null) db[o] += bias;
                    }
                }
            });
        }
        if (din != null) {
            Parallel.forRange(n, ROWS_GRAIN, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    int ib = r * ni, gb = r * no;
                    for (int o = 0; o < no; o++) {
                        float g = dout[gb + o];
                        if (g == 0f) continue;
                        int wb = o * ni;
                        for (int i = 0; i < ni; i++) din[ib + i] += g * w[wb + i];
                    }
                }
            });
        }
    }
}
