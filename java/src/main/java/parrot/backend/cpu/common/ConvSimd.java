package parrot.backend.cpu.common;

/**
 * Conv1d's weight and bias gradients as vectors over channels, for Mamba's kernel width 4 (Conv1d in the CPU
 * backend holds the plain loops, which define the op and are what the float64 twin runs). Each method returns
 * false, doing nothing, without the vector module, for doubles, for another kernel width or for sequences shorter
 * than 3.
 *
 * <p>Bits: every tap's sum (and the bias's) runs over the rows in order with the plain loop's operations (a
 * multiply, then an add), from zero, so the results are the plain loop's bits.
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

    public static boolean weightGrad(double[] sw, double[] sb, double[] dout, double[] in, int batch, int seqLen,
                                     int c, int k, int lo, int hi) {
        return false;
    }
}
