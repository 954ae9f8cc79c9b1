package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * out[N,O] = in[N,I]·W[O,I]ᵀ + b. Every inner loop is an axpy over a contiguous row (Simd); reductions run in
 * a fixed order so results do not depend on the thread count.
 */
final class Linear {
    private static final int ROWS_GRAIN = 16;
    private static final int BLOCK = 64;

    private Linear() {
    }

    static void forward(float[] out, float[] in, float[] w, float[] b, int n, int ni, int no) {
        float[] wt = new float[ni * no];                   // Wᵀ, so each input element scales one contiguous row
        for (int o = 0; o < no; o++)
            for (int i = 0; i < ni; i++) wt[i * no + o] = w[o * ni + i];
        Parallel.forRange(n, ROWS_GRAIN, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int ob = r * no, ib = r * ni;
                if (b != null) System.arraycopy(b, 0, out, ob, no);
                else java.util.Arrays.fill(out, ob, ob + no, 0f);
                for (int i = 0; i < ni; i++) {
                    float a = in[ib + i];
                    if (a != 0f) Simd.axpy(out, ob, a, wt, i * no, no);
                }
            }
        });
    }

    /** Accumulates dW += doutᵀ·in, db += Σ dout, din += dout·W; any of the three may be null. */
    static void backward(float[] din, float[] dw, float[] db, float[] dout, float[] in, float[] w,
                         int n, int ni, int no) {
        if (dw != null || db != null) {
            Parallel.forRange(no, 4, (lo, hi) -> {
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
        }
        if (din != null) {
            Parallel.forRange(n, ROWS_GRAIN, (lo, hi) -> {
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
