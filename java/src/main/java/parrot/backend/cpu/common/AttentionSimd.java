package parrot.backend.cpu.common;

import parrot.backend.AttentionSpec;

/**
 * Causal attention per (batch, head) as vector loops over keys, for the float32 CPU backend's Attention op. Where
 * a head is narrow (head_dim 8 at the quickstart size) the small matrix products of the plain path are mostly
 * call and mask overhead: here every query row computes its scores over keys a vector at a time from the head's
 * Kᵀ (gathered once), its softmax in three passes over that row, and its output (forward), or its dQ and the
 * head's dK and dV (backward), as one vector of head_dim per key.
 *
 * <p>Bits: each sum runs in a fixed order (scores over head_dim, outputs and gradients over keys, dK and dV over
 * queries, each in increasing order; the softmax sum lane by lane after the vector sum), from IEEE adds,
 * multiplies, FMAs and the polynomial exp only, so results are the same in every JIT tier, on any thread count
 * and run to run. They differ from the plain path's (Attention's own loops, which define the op and are what the
 * float64 twin runs) by float rounding.
 *
 * <p>Like {@link ScanSimd}, no method here takes or returns a vector, so nothing boxes when C2 compiles a helper on
 * its own. Every method returns false, doing nothing, without the vector module or for doubles.
 */
public final class AttentionSimd {
    private static final boolean ON = Simd.vectorized();

    private AttentionSimd() {
    }

    /**
     * Heads whose width is not a multiple of W take the queries-on-lanes kernels; the others keep the head-dims-on-
     * lanes ones, which a whole-vector head fills. Measured at 8-wide heads with 8-float vectors, one head over a
     * 64-token sequence: the head-dims-on-lanes backward takes 6.9 µs against 9.2, its forward 4.9 against 3.5.
     */
    static boolean queryLanes(int headDim) {
        return headDim % AttentionVectorOps.W != 0;
    }

    /**
     * Forward of (batch, head) pairs bh in [bhLo, bhHi): out [B·T, H·hd] and lse [B, H, T] from qkv [B·T, H·3·hd],
     * as {@code Attention.forward}. Heads whose head_dim is not a multiple of the vector width (the small twins'
     * 64 / 8 heads with AVX-512's 16 floats) run with queries on the lanes ({@link AttentionQueryLanes}).
     */
    public static boolean forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int seqLen, int bhLo,
                                  int bhHi) {
        if (!ON) return false;
        if (queryLanes(spec.headDim())) AttentionQueryLanes.forward(out, lse, qkv, spec, seqLen, bhLo, bhHi);
        else AttentionVectorOps.forward(out, lse, qkv, spec, seqLen, bhLo, bhHi, AttentionVectorOps.scale(spec.headDim()),
                spec.headDim());
        return true;
    }

    public static boolean forward(double[] out, double[] lse, double[] qkv, AttentionSpec spec, int seqLen, int bhLo,
                                  int bhHi) {
        return false;
    }

    /** Backward of pairs bh in [bhLo, bhHi), accumulating into dqkv, as {@code Attention.backward}; false as forward. */
    public static boolean backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                                   int seqLen, int bhLo, int bhHi) {
        if (!ON) return false;
        if (queryLanes(spec.headDim()))
            AttentionQueryLanes.backward(dqkv, dout, qkv, out, lse, spec, seqLen, bhLo, bhHi);
        else AttentionVectorOps.backward(dqkv, dout, qkv, out, lse, spec, seqLen, bhLo, bhHi,
                AttentionVectorOps.scale(spec.headDim()), spec.headDim());
        return true;
    }

    public static boolean backward(double[] dqkv, double[] dout, double[] qkv, double[] out, double[] lse,
                                   AttentionSpec spec, int seqLen, int bhLo, int bhHi) {
        return false;
    }
}
