package parrot.backend.cpu.common;

/**
 * The vector loops of Mamba's CPU ops (the selective scan, SiLU), over arrays only. Why a second façade beside
 * {@link Simd}: HotSpot 17 keeps a Vector API value in registers only while every method it passes through is
 * inlined; a helper taking or returning a vector that C2 has already compiled on its own ("already compiled into
 * a big method") is then called, and every call boxes its vectors. That happened to Simd's softplus inside the
 * scan (a quarter of Mamba's training time, ~45 ns an element against ~1 ns in a plain loop) depending on which
 * method the JIT compiled first. Here no method takes or returns a vector: each loop has its exp written out,
 * and the composed ops (softplus, sigmoid, the scan's factors) call the array exp on scratch rows.
 *
 * <p>Every method returns false, doing nothing, without the vector module (and for doubles, which the float64
 * twin uses): the caller's plain loop, which defines the op, runs instead. The float methods give the same bits
 * in every JIT tier (IEEE adds, multiplies, FMAs, divisions only) and the same bits whatever the split between
 * vector body and scalar tail, except where a method says otherwise.
 */
public final class ScanSimd {
    private static final boolean ON = Simd.vectorized();

    private ScanSimd() {
    }

    /** a[off..off+n) = exp(a[off..off+n)), Simd.exp's polynomial (the same bits), in place. */
    public static boolean exp(float[] a, int off, int n) {
        if (!ON) return false;
        ScanVectorOps.exp(a, off, n);
        return true;
    }

    public static boolean exp(double[] a, int off, int n) {
        return false;
    }

    /**
     * Softplus with torch's threshold (x above 20 stays x), in place, and with sg given σ of the input into sg
     * (softplus' derivative), from one exp: max(x, 0) + log1p(exp(−|x|)) with log1p as an odd series in
     * t/(2 + t); within a few ulp of Math.log1p(Math.exp(x)) (ScanSimdTest).
     */
    public static boolean softplus(float[] a, float[] sg, int off, int n) {
        if (!ON) return false;
        ScanVectorOps.softplus(a, sg, off, n);
        return true;
    }

    public static boolean softplus(double[] a, double[] sg, int off, int n) {
        return false;
    }

    /** a = 1/(1 + exp(−a)), in place (the vector exp: within a few ulp of the float rounding of the exact value). */
    public static boolean sigmoid(float[] a, int off, int n) {
        if (!ON) return false;
        ScanVectorOps.sigmoid(a, off, n);
        return true;
    }

    public static boolean sigmoid(double[] a, int off, int n) {
        return false;
    }

    /** out[i] = x·σ(x) for x = in[i], i in [off, off+n). */
    public static boolean silu(float[] out, float[] in, int off, int n) {
        if (!ON) return false;
        ScanVectorOps.silu(out, in, off, n);
        return true;
    }

    public static boolean silu(double[] out, double[] in, int off, int n) {
        return false;
    }

    /** din[i] += dout[i]·σ(x)·(1 + x·(1 − σ(x))) for x = in[i], i in [off, off+n). */
    public static boolean siluBackward(float[] din, float[] dout, float[] in, int off, int n) {
        if (!ON) return false;
        ScanVectorOps.siluBackward(din, dout, in, off, n);
        return true;
    }

    public static boolean siluBackward(double[] din, double[] dout, double[] in, int off, int n) {
        return false;
    }

    /**
     * len steps of the scan for a block of nd channels, states [N][nd] from hs[0..n·nd) (the plain loops: Scan's
     * decays then recur): per step j and state s, e = exp(δ_j·A_s) (a reproducible 2^z form, see ScanVectorOps),
     * h ← e·h + (δ_j·u_j)·B_j,s (a fused multiply-add), y_j = Σ_s C_j,s·h (fused, s in order), with δ and u at
     * dls/us[j·nd], B_j and C_j at bm/cm[rb + j·n], at[atOff..] = A transposed to [N][nd]; y_j to ys[j·nd]. With
     * keep, the state after step j goes to hs[hsOff + (j+1)·n·nd] (hs holds len + 1 states), else it stays at
     * hs[hsOff]; the factors go to e[eOff + j·n·nd + s·nd + o] only where e is not null. Vectors over channels; the channels past the last full
     * vector are the same operations on scalars.
     */
    public static boolean advance(float[] at, int atOff, float[] dls, float[] us, float[] bm, float[] cm, int rb,
                                  float[] e, int eOff, float[] hs, int hsOff, boolean keep, float[] ys, int len, int nd,
                                  int n) {
        if (!ON) return false;
        ScanVectorOps.advance(at, atOff, dls, us, bm, cm, rb, e, eOff, hs, hsOff, keep, ys, len, nd, n);
        return true;
    }

    public static boolean advance(double[] at, int atOff, double[] dls, double[] us, double[] bm, double[] cm, int rb,
                                  double[] e, int eOff, double[] hs, int hsOff, boolean keep, double[] ys, int len,
                                  int nd, int n) {
        return false;
    }

    /**
     * The adjoint of one scan step over all n states (the plain loop: Scan.adjoint): channel vectors outside,
     * states inside, accumulators in registers; acc is scratch of at least 2·n·({@link #lanes()} + 1) floats. The
     * per-state sums over channels (assigned to pB, pC) add lanes as a halving tree (ScanVectorOps.laneSums), not
     * in the plain loop's order.
     */
    public static boolean adjoint(float[] hs, int cur, int prev, float[] es, float[] dh, float[] at, float[] dls,
                                  int jd, float[] g, float[] uu, float[] bm, float[] cm, int rb, float[] dDelta,
                                  float[] duAcc, float[] dA, float[] pB, float[] pC, int pb, int nd, int n,
                                  float[] acc) {
        if (!ON) return false;
        ScanVectorOps.adjoint(hs, cur, prev, es, dh, at, dls, jd, g, uu, bm, cm, rb, dDelta, duAcc, dA, pB, pC, pb,
                nd, n, acc);
        return true;
    }

    public static boolean adjoint(double[] hs, int cur, int prev, double[] es, double[] dh, double[] at, double[] dls,
                                  int jd, double[] g, double[] uu, double[] bm, double[] cm, int rb, double[] dDelta,
                                  double[] duAcc, double[] dA, double[] pB, double[] pC, int pb, int nd, int n,
                                  double[] acc) {
        return false;
    }

    /**
     * The backward's per-step work before the adjoint, for one step of a block of nd channels (the plain loop, its
     * definition, is in Scan.backward): g = dout (times z·σ(z) with the gate, dz += dout·y'·SiLU'(z), y' = y +
     * D·u), uu = u, dDelta = 0, duAcc = g·D (0 without D), pD += g·u; dout, z, dz at i0, us, ys, sig at jd,
     * dSkip at d0, pD at pd0. sig, dz, dSkip, pD may be null. The same bits as that loop.
     */
    public static boolean stepInputs(float[] dout, float[] z, float[] dz, boolean assign, int i0, float[] us, float[] ys,
                                     float[] sig, int jd, float[] dSkip, int d0, float[] pD, int pd0, float[] g,
                                     float[] uu, float[] dDelta, float[] duAcc, int nd) {
        if (!ON) return false;
        ScanVectorOps.stepInputs(dout, z, dz, assign, i0, us, ys, sig, jd, dSkip, d0, pD, pd0, g, uu, dDelta, duAcc, nd);
        return true;
    }

    public static boolean stepInputs(double[] dout, double[] z, double[] dz, boolean assign, int i0, double[] us, double[] ys,
                                     double[] sig, int jd, double[] dSkip, int d0, double[] pD, int pd0, double[] g,
                                     double[] uu, double[] dDelta, double[] duAcc, int nd) {
        return false;
    }

    /**
     * After the adjoint of one step: du += duAcc, dd1 = dDelta·sgs (sgs null: no softplus), ddelta += dd1,
     * pBias += dd1 (with assign du = duAcc and ddelta = dd1); du, ddelta at i0, sgs at jd, pBias at pb0; du, ddelta, pBias may be null. Same bits as the
     * plain loop in Scan.backward.
     */
    public static boolean stepOutputs(float[] du, float[] ddelta, boolean assign, int i0, float[] duAcc, float[] dDelta,
                                      float[] sgs, int jd, float[] pBias, int pb0, int nd) {
        if (!ON) return false;
        ScanVectorOps.stepOutputs(du, ddelta, assign, i0, duAcc, dDelta, sgs, jd, pBias, pb0, nd);
        return true;
    }

    public static boolean stepOutputs(double[] du, double[] ddelta, boolean assign, int i0, double[] duAcc, double[] dDelta,
                                      double[] sgs, int jd, double[] pBias, int pb0, int nd) {
        return false;
    }

    /**
     * δ's rows before softplus for a block of channels: dls[j·nd + o] = delta[rowI0 + j·d + o] + dBias[d0 + o] (no
     * add where dBias is null), for j < len, o < nd. The same bits as Scan's plain loop.
     */
    public static boolean biasRows(float[] dls, float[] delta, float[] dBias, int rowI0, int d, int d0, int nd, int len) {
        if (!ON) return false;
        ScanVectorOps.biasRows(dls, delta, dBias, rowI0, d, d0, nd, len);
        return true;
    }

    public static boolean biasRows(double[] dls, double[] delta, double[] dBias, int rowI0, int d, int d0, int nd,
                                   int len) {
        return false;
    }

    /**
     * The forward's outputs for a block of channels: out[rowI0 + j·d + o] = (ys + D·u)·(z·σ(z)) with ys, us, sig
     * at [j·nd + o], D at dSkip[d0 + o], z at the output's index (dSkip, sig null: no skip, no gate; z is read only
     * with sig). The multiplies and adds of Scan.forward's plain loop, in its order: the same bits.
     */
    public static boolean outputs(float[] out, float[] z, int rowI0, int d, float[] ys, float[] us, float[] sig,
                                  float[] dSkip, int d0, int nd, int len) {
        if (!ON) return false;
        ScanVectorOps.outputs(out, z, rowI0, d, ys, us, sig, dSkip, d0, nd, len);
        return true;
    }

    public static boolean outputs(double[] out, double[] z, int rowI0, int d, double[] ys, double[] us, double[] sig,
                                  double[] dSkip, int d0, int nd, int len) {
        return false;
    }

    /**
     * One chunk of Scan.backward's steps (its loop over j: stepInputs, adjoint, stepOutputs), newest first, fused,
     * where it has a fused form: the vector module on, a block of exactly 2·{@link #lanes()} channels, and every
     * optional input and output present (as in the Mamba block's training); this says whether it has. The same
     * bits as the three kernels a step. Indices as in ScanVectorOps.chunkPair; its lane partials take
     * 2·len·n·{@link #lanes()} floats at accOff.
     */
    public static boolean fusedChunk(int nd, float[] z, float[] dz, float[] du, float[] ddelta, float[] sgs,
                                     float[] dSkip, float[] pD, float[] pBias, float[] dA, float[] pB, float[] pC) {
        return ON && nd == 2 * ScanVectorOps.lanes() && z != null && dz != null && du != null && ddelta != null
                && sgs != null && dSkip != null && pD != null && pBias != null && dA != null && pB != null && pC != null;
    }

    public static boolean fusedChunk(int nd, double[] z, double[] dz, double[] du, double[] ddelta, double[] sgs,
                                     double[] dSkip, double[] pD, double[] pBias, double[] dA, double[] pB, double[] pC) {
        return false;
    }

    /**
     * The fused chunk, where {@link #fusedChunk} said it applies. Its arrays and indices come packed, as io = {dout,
     * z, dz, du, ddelta, us, ys, sig, dls, sgs, dSkip, pD, pBias, ar, B, C, pB, pC} and ix = {rowI0, d, d0, pd0, rb0,
     * pb0, hsOff, esOff, dhOff, atOff, dAOff, accOff} (their meanings in ScanVectorOps.chunkPair; the per-state
     * buffers are slices of ar). Why packed: as 33 arguments the call was more than C2 can pass on AVX-512
     * ("COMPILE SKIPPED: unsupported calling sequence" in -XX:+PrintCompilation), so the scan backward's task loop,
     * which made it, ran as C1 code: Mamba at 28-88k tokens/s against ~105k.
     */
    public static void chunk(float[][] io, int[] ix, boolean assign, int len, int n) {
        ScanVectorOps.chunkPair(io, ix, assign, len, n);
    }

    public static void chunk(double[][] io, int[] ix, boolean assign, int len, int n) {
        throw new UnsupportedOperationException("no fused chunk for doubles (fusedChunk says false)");
    }

    /** Float lanes of the vectors these kernels use (1 without the vector module). */
    public static int lanes() {
        return ON ? ScanVectorOps.lanes() : 1;
    }
}
