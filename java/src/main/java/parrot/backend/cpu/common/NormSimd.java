package parrot.backend.cpu.common;

/**
 * LayerNorm's row loops as vectors over the channels (LayerNorm in the CPU backend holds the plain loops, which
 * define the op and are what the float64 twin runs). Each method returns false, doing nothing, without the vector
 * module or for doubles. Sums over a row are a vector sum then its lanes in order (float), so the bits are fixed
 * in every JIT tier; the weight and bias gradients sum each column over the rows in order with the plain loop's
 * operations (a multiply, then an add), the same bits as it.
 */
public final class NormSimd {
    private static final boolean ON = Simd.vectorized();

    private NormSimd() {
    }

    /** Rows [lo, hi) of out = (x − mean)·rstd·w + b (b may be null), saving mean and rstd per row. */
    public static boolean layerNormForward(float[] out, float[] mean, float[] rstd, float[] in, float[] w, float[] b,
                                           double eps, int c, int lo, int hi) {
        if (!ON) return false;
        NormVectorOps.forward(out, mean, rstd, in, w, b, eps, c, lo, hi);
        return true;
    }

    public static boolean layerNormForward(double[] out, double[] mean, double[] rstd, double[] in, double[] w,
                                           double[] b, double eps, int c, int lo, int hi) {
        return false;
    }

    /** Rows [lo, hi) of din += (dnorm − mean(dnorm) − norm·mean(dnorm·norm))·rstd, dnorm = w·dout. */
    public static boolean layerNormInputGrad(float[] din, float[] dout, float[] in, float[] w, float[] mean,
                                             float[] rstd, int c, int lo, int hi) {
        if (!ON) return false;
        NormVectorOps.inputGrad(din, dout, in, w, mean, rstd, c, lo, hi);
        return true;
    }

    public static boolean layerNormInputGrad(double[] din, double[] dout, double[] in, double[] w, double[] mean,
                                             double[] rstd, int c, int lo, int hi) {
        return false;
    }

    /** Columns [lo, hi): dw += Σ_r dout·norm, db += Σ_r dout (either may be null), rows in order. */
    public static boolean layerNormParamGrads(float[] dw, float[] db, float[] dout, float[] in, float[] mean,
                                              float[] rstd, int n, int c, int lo, int hi) {
        if (!ON) return false;
        NormVectorOps.paramGrads(dw, db, dout, in, mean, rstd, n, c, lo, hi);
        return true;
    }

    public static boolean layerNormParamGrads(double[] dw, double[] db, double[] dout, double[] in, double[] mean,
                                              double[] rstd, int n, int c, int lo, int hi) {
        return false;
    }
}
