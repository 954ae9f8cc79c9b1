package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;

/** Adds, scales, order-fixed sums, column copies, −exp, embedding lookups and argmax: the small ops. */
final class Elementwise {
    private static final int GRAIN = 1 << 14;

    private Elementwise() {
    }

    static void add(float[] out, float[] a, float[] b, int n) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) out[i] = a[i] + b[i];
        });
    }

    /** dst += src; zeroFirst: dst is a deferred zero (CpuTensor.claimZero), filled here chunk by chunk. */
    static void accumulate(float[] dst, float[] src, int n, boolean zeroFirst) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            if (zeroFirst) java.util.Arrays.fill(dst, lo, hi, 0f);
            for (int i = lo; i < hi; i++) dst[i] += src[i];
        });
    }

    static void scale(float[] t, float s, int n) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) t[i] *= s;
        });
    }

    static double sumSquares(float[] t, int n) {
        int chunks = Parallel.reduceChunks(n);
        double[] part = new double[chunks];
        Parallel.forRange(chunks, 1, (lo, hi) -> {
            for (int c = lo; c < hi; c++) {
                double s = 0;
                int end = Math.min(n, (c + 1) * Parallel.REDUCE_CHUNK);
                for (int i = c * Parallel.REDUCE_CHUNK; i < end; i++) s += (double) t[i] * t[i];
                part[c] = s;
            }
        });
        double s = 0;
        for (double p : part) s += p;
        return s;
    }

    static void embeddingForward(float[] out, int[] tokens, float[] table, int n, int c, int vocab) {
        for (int r = 0; r < n; r++) {
            int tok = tokens[r];
            if (tok < 0 || tok >= vocab)
                throw new IllegalArgumentException("token id " + tok + " at row " + r + " is outside 0.." + (vocab - 1));
            System.arraycopy(table, tok * c, out, r * c, c);
        }
    }

    static void embeddingBackward(float[] dtable, float[] dout, int[] tokens, int n, int c) {
        for (int r = 0; r < n; r++) {
            int tb = tokens[r] * c, gb = r * c;
            for (int i = 0; i < c; i++) dtable[tb + i] += dout[gb + i];
        }
    }

    static void argmax(int[] out, float[] logits, int n, int v) {
        Parallel.forRange(n, 64, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * v, best = 0;
                for (int j = 1; j < v; j++) if (logits[base + j] > logits[base + best]) best = j;
                out[r] = best;
            }
        });
    }
    static void copyColumns(float[] dst, int dstCols, int dstCol, float[] src, int srcCols, int srcCol, int width,
                            int rows, boolean accumulate) {
        Parallel.forRange(rows, 64, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int db = r * dstCols + dstCol, sb = r * srcCols + srcCol;
                if (accumulate) for (int j = 0; j < width; j++) dst[db + j] += src[sb + j];
                else System.arraycopy(src, sb, dst, db, width);
            }
        });
    }

    static void negExpForward(float[] out, float[] in, int n) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) out[i] = (float) -Math.exp(in[i]);
        });
    }

    static void negExpBackward(float[] din, float[] dout, float[] out, int n) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) din[i] += dout[i] * out[i];
        });
    }
}
