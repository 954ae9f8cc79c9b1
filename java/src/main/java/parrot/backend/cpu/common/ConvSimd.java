package parrot.backend.cpu.common;

/**
 * Conv1d's rows and weight and bias gradients as vectors over channels, for Mamba's kernel width 4 (Conv1d in the CPU
 * backend holds the plain loops, which define the op and are what the float64 twin runs). Each method returns
 * false, doing nothing, without the vector module, for doubles, for another kernel width or for sequences shorter
 * than 3.
 *
 * <p>Bits: every sum runs in the plain loop's order with its operations (a multiply, then an add), from the same
 * start (zero, the bias, or what din held), so the results are the plain loop's bits.
 */
public final class ConvSimd {
    private static final boolean ON = Simd.vectorized();

    private ConvSimd() {
    }

    /**
     * Channels [lo, hi) of activations [batch·seqLen, c]: sw[j·(hi − lo) + ch − lo] = Σ over rows of
     * dout[r, ch]·in[r − 3 + j, ch] (rows of the same sequence only) and sb[ch − lo] = Σ dout[r, ch]; both
     * overwritten.
     */
    public static boolean weightGrad(float[] sw, float[] sb, float[] dout, float[] in, int batch, int seqLen, int c,
                                     int k, int lo, int hi) {
        if (!ON || k != 4 || seqLen < 3) return false;
        ConvVectorOps.weightGrad4(sw, sb, dout, in, batch, seqLen, c, lo, hi);
        return true;
    }

    /**
     * One row of the forward with all four taps in range: out[ob + ch] = bias[ch] (0 without) + Σ_j wt[j·c + ch]·
     * in[ib + j·c + ch], j in order (ib: the input row three steps back).
     */
    public static boolean forwardRow(float[] out, int ob, float[] in, int ib, float[] wt, float[] bias, int c, int k) {
        if (!ON || k != 4) return false;
        ConvVectorOps.forwardRow4(out, ob, in, ib, wt, bias, c);
        return true;
    }

    public static boolean forwardRow(double[] out, int ob, double[] in, int ib, double[] wt, double[] bias, int c,
                                     int k) {
        return false;
    }

    /**
     * One row of the input gradient with all four taps in range: din[ib + ch] += Σ_j wt[j·c + ch]·
     * dout[ob + (3 − j)·c + ch], j in order (ob: dout's row at the same step).
     */
    public static boolean inputGradRow(float[] din, int ib, float[] dout, int ob, float[] wt, int c, int k) {
        if (!ON || k != 4) return false;
        ConvVectorOps.inputGradRow4(din, ib, dout, ob, wt, c);
        return true;
    }

    public static boolean inputGradRow(double[] din, int ib, double[] dout, int ob, double[] wt, int c, int k) {
        return false;
    }

    public static boolean weightGrad(double[] sw, double[] sb, double[] dout, double[] in, int batch, int seqLen,
                                     int c, int k, int lo, int hi) {
        return false;
    }
}
