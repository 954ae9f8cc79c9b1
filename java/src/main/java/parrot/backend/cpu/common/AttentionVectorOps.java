package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import parrot.backend.AttentionSpec;

import java.util.Arrays;

/**
 * {@link AttentionSimd} on the Vector API, for head_dim a multiple of the vector width W (other heads run with
 * queries on the lanes: {@link AttentionQueryLanes}). Layouts as Attention's:
 * qkv [B·T, H·3·hd] (per head q|k|v), out [B·T, H·hd], lse [B, H, T].
 *
 * <p>Queries go four at a time (rows q0..q0+3; past T the last row is repeated and its results dropped). The
 * block's keys are [k0(q0), q0+3], taken W at a time, so the score tile is four rows of whole vectors over a
 * scratch of T + W floats per row, computed register-blocked from the head's Kᵀ (one load of Kᵀ feeds four
 * independent FMA chains); each row then masks the keys it may not see (−∞ before its softmax, exact 0 after),
 * and the value products run over the block's keys with one load of v_k for the four rows. A masked key adds
 * fma(0, x, acc) = acc, so every sum equals the sum over the row's own visible keys in order, whatever the block.
 * Per-key products are one vector per W dims of a head row.
 */
final class AttentionVectorOps {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final VectorSpecies<Integer> I = VectorWidth.INT;
    static final int W = F.length();
    private static final int R = 4;
    static final float[] IOTA = new float[W];     // 0, 1, ..., W − 1 (AttentionQueryLanes' too)

    static {
        for (int i = 0; i < W; i++) IOTA[i] = i;
    }

    // The polynomial exp of VectorOps.expV / ScanVectorOps.exp, the same constants and operations (the same bits);
    // AttentionQueryLanes uses these too.
    static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365478515625f;
    static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    static final float ROUNDER = 12582912f;
    static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private AttentionVectorOps() {
    }

    /** Keys [k0, q] rounded up to whole vectors. */
    private static int end(int k0, int q) {
        return k0 + (q - k0 + W) / W * W;
    }

    /**
     * dst[d·ldt + t] = src[off + t·ld + d] for t < T, d < hd: one head's q, k, v or dO as hd rows over positions
     * (AttentionQueryLanes uses it too). Stores in order, a dim at a time: twice the speed of a row at a time.
     */
    static void transpose(float[] dst, int ldt, float[] src, int off, int ld, int seqLen, int hd) {
        for (int d = 0; d < hd; d++) {
            int o = d * ldt, s = off + d;
            for (int t = 0; t < seqLen; t++) dst[o + t] = src[s + t * ld];
        }
    }

    /**
     * a[off..off+n) = exp(a − shift), n a multiple of W, and returns their sum (a vector sum, then its lanes in
     * order). Below the exp's range (masked keys hold −∞) the result is exactly 0.
     */
    private static float expSum(float[] a, int off, int n, float shift, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += W) {
            FloatVector x = FloatVector.fromArray(F, a, off + i).sub(shift);
            // expV's clamp: lanes below EXP_LO (masked keys) end as the blend's exact 0 below, whatever the
            // polynomial made of them, so only the upper side is clamped, by a compare and blend (the same values
            // as min, NaN included, at a fraction of C2's Math.min semantics on AVX2).
            VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
            x = x.blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
            FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
            FloatVector k = t.sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1));
            p = p.fma(r, FloatVector.broadcast(F, P2));
            p = p.fma(r, FloatVector.broadcast(F, P3));
            p = p.fma(r, FloatVector.broadcast(F, P4));
            p = p.fma(r, FloatVector.broadcast(F, P5));
            FloatVector e = p.mul(r).fma(r, r).add(1f);
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                    .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            e = e.mul(bits.reinterpretAsFloats()).blend(0f, under);
            e.intoArray(a, off + i);
            acc = acc.add(e);
        }
        acc.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < W; i++) s += lanes[i];
        return s;
    }

    /**
     * The backward's row pass in one loop: p = exp(p) as {@link #expSum} (no shift, and no sum: the backward needs
     * none) and ds = p·(ds − rowDot)·scale, the operations of the two separate passes it replaces (the same bits).
     */
    private static void expDs(float[] a, float[] ds, int off, int n, float rowDot, float scale) {
        for (int i = 0; i < n; i += W) {
            FloatVector x = FloatVector.fromArray(F, a, off + i);
            VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_LO);
            x = x.blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
            FloatVector t = x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
            FloatVector k = t.sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1));
            p = p.fma(r, FloatVector.broadcast(F, P2));
            p = p.fma(r, FloatVector.broadcast(F, P3));
            p = p.fma(r, FloatVector.broadcast(F, P4));
            p = p.fma(r, FloatVector.broadcast(F, P5));
            FloatVector e = p.mul(r).fma(r, r).add(1f);
            IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS).add(127)
                    .lanewise(VectorOperators.LSHL, IntVector.broadcast(I, 23));
            e = e.mul(bits.reinterpretAsFloats()).blend(0f, under);
            e.intoArray(a, off + i);
            e.mul(FloatVector.fromArray(F, ds, off + i).sub(rowDot)).mul(scale).intoArray(ds, off + i);
        }
    }

    /** The scale 1/√head_dim of the scores, from the heads' true width (a padded head keeps it). */
    static float scale(int headDim) {
        return (float) (1 / Math.sqrt(headDim));
    }

    /**
     * head_dim (spec's) a multiple of W; scores are scaled by {@code scale}. Only the first {@code dims} dims of a
     * head may be nonzero (a padded head's real ones): the score and row-dot sums skip the rest, whose fma(0, 0, s)
     * would leave the same bits.
     */
    static void forward(float[] out, float[] lse, float[] qkv, AttentionSpec spec, int seqLen, int bhLo, int bhHi,
                        float scale, int dims) {
        int heads = spec.heads(), hd = spec.headDim(), ld = 3 * hd * heads, ldo = hd * heads, ldt = seqLen + W;
        float[] kt = new float[hd * ldt], s = new float[R * ldt], lanes = new float[W], m = new float[R];
        FloatVector iota = FloatVector.fromArray(F, IOTA, 0);
        for (int bh = bhLo; bh < bhHi; bh++) {
            int b = bh / heads, h = bh % heads, w = spec.window(h), base = b * seqLen * ld + h * 3 * hd;
            float slope = (float) spec.slope(h);
            transpose(kt, ldt, qkv, base + hd, ld, seqLen, dims);               // kt's padding stays 0
            for (int q0 = 0; q0 < seqLen; q0 += R) {
                int qLast = Math.min(q0 + R - 1, seqLen - 1), kLo = w > 0 ? Math.max(0, q0 - w + 1) : 0;
                int kEnd = end(kLo, qLast), nk = kEnd - kLo, lo3 = w > 0 ? Math.max(0, q0 + R - w) : 0;
                int a0 = base + q0 * ld, a1 = base + Math.min(q0 + 1, qLast) * ld;
                int a2 = base + Math.min(q0 + 2, qLast) * ld, a3 = base + qLast * ld;
                FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
                for (int j = kLo; j < kEnd; j += W) {                 // S = Q·Kᵀ·scale − slope·(q − k), masked
                    FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                    for (int d = 0; d < dims; d++) {
                        FloatVector kv = FloatVector.fromArray(F, kt, d * ldt + j);
                        s0 = kv.fma(FloatVector.broadcast(F, qkv[a0 + d]), s0);
                        s1 = kv.fma(FloatVector.broadcast(F, qkv[a1 + d]), s1);
                        s2 = kv.fma(FloatVector.broadcast(F, qkv[a2 + d]), s2);
                        s3 = kv.fma(FloatVector.broadcast(F, qkv[a3 + d]), s3);
                    }
                    s0 = s0.mul(scale);
                    s1 = s1.mul(scale);
                    s2 = s2.mul(scale);
                    s3 = s3.mul(scale);
                    FloatVector dist = FloatVector.broadcast(F, (float) (q0 - j)).sub(iota);     // q0 − k
                    if (slope != 0f) {
                        s0 = s0.sub(dist.mul(slope));
                        s1 = s1.sub(dist.add(1f).mul(slope));
                        s2 = s2.sub(dist.add(2f).mul(slope));
                        s3 = s3.sub(dist.add(3f).mul(slope));
                    }
                    if (j + W - 1 > q0 || j < lo3) {                    // row r sees q − w < k <= q (w = 0: all k <= q)
                        float wl = w > 0 ? w : Float.POSITIVE_INFINITY;
                        s0 = s0.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, 0f).or(dist.compare(VectorOperators.GE, wl)));
                        s1 = s1.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, -1f).or(dist.compare(VectorOperators.GE, wl - 1f)));
                        s2 = s2.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, -2f).or(dist.compare(VectorOperators.GE, wl - 2f)));
                        s3 = s3.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, -3f).or(dist.compare(VectorOperators.GE, wl - 3f)));
                    }
                    s0.intoArray(s, j);
                    s1.intoArray(s, ldt + j);
                    s2.intoArray(s, 2 * ldt + j);
                    s3.intoArray(s, 3 * ldt + j);
                    m0 = m0.blend(s0, s0.compare(VectorOperators.GT, m0));   // a NaN never wins here; it propagates below
                    m1 = m1.blend(s1, s1.compare(VectorOperators.GT, m1));
                    m2 = m2.blend(s2, s2.compare(VectorOperators.GT, m2));
                    m3 = m3.blend(s3, s3.compare(VectorOperators.GT, m3));
                }
                m[0] = m0.reduceLanes(VectorOperators.MAX);               // exact in any order
                m[1] = m1.reduceLanes(VectorOperators.MAX);
                m[2] = m2.reduceLanes(VectorOperators.MAX);
                m[3] = m3.reduceLanes(VectorOperators.MAX);
                int vb = base + 2 * hd, ob = (b * seqLen + q0) * ldo + h * hd;
                for (int r = 0; r <= qLast - q0; r++) {                // each row's softmax over its own keys
                    float sum = expSum(s, r * ldt + kLo, nk, m[r], lanes);
                    lse[bh * seqLen + q0 + r] = (float) (m[r] + Math.log(sum));
                    m[r] = 1f / sum;
                }
                for (int d0 = 0; d0 < hd; d0 += W) {                  // O = P·V, keys in order
                    FloatVector o0 = FloatVector.zero(F), o1 = o0, o2 = o0, o3 = o0;
                    for (int k = kLo; k <= qLast; k++) {
                        FloatVector v = FloatVector.fromArray(F, qkv, vb + k * ld + d0);
                        o0 = v.fma(FloatVector.broadcast(F, s[k]), o0);
                        o1 = v.fma(FloatVector.broadcast(F, s[ldt + k]), o1);
                        o2 = v.fma(FloatVector.broadcast(F, s[2 * ldt + k]), o2);
                        o3 = v.fma(FloatVector.broadcast(F, s[3 * ldt + k]), o3);
                    }
                    o0.mul(m[0]).intoArray(out, ob + d0);
                    if (q0 + 1 <= qLast) o1.mul(m[1]).intoArray(out, ob + ldo + d0);
                    if (q0 + 2 <= qLast) o2.mul(m[2]).intoArray(out, ob + 2 * ldo + d0);
                    if (q0 + 3 <= qLast) o3.mul(m[3]).intoArray(out, ob + 3 * ldo + d0);
                }
            }
        }
    }

    static void backward(float[] dqkv, float[] dout, float[] qkv, float[] out, float[] lse, AttentionSpec spec,
                         int seqLen, int bhLo, int bhHi, float scale, int dims) {
        int heads = spec.heads(), hd = spec.headDim(), ld = 3 * hd * heads, ldo = hd * heads, ldt = seqLen + W;
        float[] kt = new float[hd * ldt], vt = new float[hd * ldt], p = new float[R * ldt], ds = new float[R * ldt];
        float[] dk = new float[seqLen * hd], dv = new float[seqLen * hd], l = new float[R], rowDot = new float[R];
        FloatVector iota = FloatVector.fromArray(F, IOTA, 0);
        for (int bh = bhLo; bh < bhHi; bh++) {
            int b = bh / heads, h = bh % heads, w = spec.window(h), base = b * seqLen * ld + h * 3 * hd;
            int kb = base + hd, vb = base + 2 * hd;
            float slope = (float) spec.slope(h);
            transpose(kt, ldt, qkv, kb, ld, seqLen, dims);
            transpose(vt, ldt, qkv, vb, ld, seqLen, dims);
            Arrays.fill(dk, 0f);
            Arrays.fill(dv, 0f);
            for (int q0 = 0; q0 < seqLen; q0 += R) {
                int qLast = Math.min(q0 + R - 1, seqLen - 1), kLo = w > 0 ? Math.max(0, q0 - w + 1) : 0;
                int kEnd = end(kLo, qLast), nk = kEnd - kLo, lo3 = w > 0 ? Math.max(0, q0 + R - w) : 0;
                int a0 = base + q0 * ld, a1 = base + Math.min(q0 + 1, qLast) * ld;
                int a2 = base + Math.min(q0 + 2, qLast) * ld, a3 = base + qLast * ld;
                int ob = (b * seqLen + q0) * ldo + h * hd;
                int g0 = ob, g1 = ob + (a1 - a0) / ld * ldo, g2 = ob + (a2 - a0) / ld * ldo, g3 = ob + (a3 - a0) / ld * ldo;
                for (int r = 0; r < R; r++) {
                    int q = Math.min(q0 + r, qLast), o = (b * seqLen + q) * ldo + h * hd;
                    float dot = 0f;
                    for (int d = 0; d < dims; d++) dot += dout[o + d] * out[o + d];           // rowsum(dO∘O)
                    rowDot[r] = dot;
                    l[r] = lse[bh * seqLen + q];
                }
                for (int j = kLo; j < kEnd; j += W) {                 // S − lse and dP = dO·Vᵀ
                    FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                    FloatVector t0 = s0, t1 = s0, t2 = s0, t3 = s0;
                    for (int d = 0; d < dims; d++) {
                        FloatVector kv = FloatVector.fromArray(F, kt, d * ldt + j);
                        FloatVector vv = FloatVector.fromArray(F, vt, d * ldt + j);
                        s0 = kv.fma(FloatVector.broadcast(F, qkv[a0 + d]), s0);
                        s1 = kv.fma(FloatVector.broadcast(F, qkv[a1 + d]), s1);
                        s2 = kv.fma(FloatVector.broadcast(F, qkv[a2 + d]), s2);
                        s3 = kv.fma(FloatVector.broadcast(F, qkv[a3 + d]), s3);
                        t0 = vv.fma(FloatVector.broadcast(F, dout[g0 + d]), t0);
                        t1 = vv.fma(FloatVector.broadcast(F, dout[g1 + d]), t1);
                        t2 = vv.fma(FloatVector.broadcast(F, dout[g2 + d]), t2);
                        t3 = vv.fma(FloatVector.broadcast(F, dout[g3 + d]), t3);
                    }
                    s0 = s0.mul(scale);
                    s1 = s1.mul(scale);
                    s2 = s2.mul(scale);
                    s3 = s3.mul(scale);
                    FloatVector dist = FloatVector.broadcast(F, (float) (q0 - j)).sub(iota);     // q0 − k
                    if (slope != 0f) {
                        s0 = s0.sub(dist.mul(slope));
                        s1 = s1.sub(dist.add(1f).mul(slope));
                        s2 = s2.sub(dist.add(2f).mul(slope));
                        s3 = s3.sub(dist.add(3f).mul(slope));
                    }
                    s0 = s0.sub(l[0]);
                    s1 = s1.sub(l[1]);
                    s2 = s2.sub(l[2]);
                    s3 = s3.sub(l[3]);
                    if (j + W - 1 > q0 || j < lo3) {                    // masked keys: −∞, so P = 0 there
                        float wl = w > 0 ? w : Float.POSITIVE_INFINITY;
                        s0 = s0.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, 0f).or(dist.compare(VectorOperators.GE, wl)));
                        s1 = s1.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, -1f).or(dist.compare(VectorOperators.GE, wl - 1f)));
                        s2 = s2.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, -2f).or(dist.compare(VectorOperators.GE, wl - 2f)));
                        s3 = s3.blend(Float.NEGATIVE_INFINITY, dist.compare(VectorOperators.LT, -3f).or(dist.compare(VectorOperators.GE, wl - 3f)));
                    }
                    s0.intoArray(p, j);
                    s1.intoArray(p, ldt + j);
                    s2.intoArray(p, 2 * ldt + j);
                    s3.intoArray(p, 3 * ldt + j);
                    t0.intoArray(ds, j);
                    t1.intoArray(ds, ldt + j);
                    t2.intoArray(ds, 2 * ldt + j);
                    t3.intoArray(ds, 3 * ldt + j);
                }
                for (int r = 0; r < R; r++) {                        // P = exp(S − lse), dS = P∘(dP − rowDot)·scale
                    int off = r * ldt + kLo;
                    if (q0 + r > qLast) {                              // a repeated row adds nothing
                        Arrays.fill(p, off, off + nk, 0f);
                        Arrays.fill(ds, off, off + nk, 0f);
                        continue;
                    }
                    expDs(p, ds, off, nk, rowDot[r], scale);
                }
                for (int d0 = 0; d0 < hd; d0 += W) {
                    // dQ += dS·K and dK += dSᵀ·Q (the block's rows in order, after the earlier blocks')
                    FloatVector q0v = FloatVector.fromArray(F, qkv, a0 + d0), q1v = FloatVector.fromArray(F, qkv, a1 + d0);
                    FloatVector q2v = FloatVector.fromArray(F, qkv, a2 + d0), q3v = FloatVector.fromArray(F, qkv, a3 + d0);
                    FloatVector dq0 = FloatVector.zero(F), dq1 = dq0, dq2 = dq0, dq3 = dq0;
                    for (int k = kLo; k <= qLast; k++) {
                        FloatVector kv = FloatVector.fromArray(F, qkv, kb + k * ld + d0);
                        FloatVector e0 = FloatVector.broadcast(F, ds[k]), e1 = FloatVector.broadcast(F, ds[ldt + k]);
                        FloatVector e2 = FloatVector.broadcast(F, ds[2 * ldt + k]), e3 = FloatVector.broadcast(F, ds[3 * ldt + k]);
                        dq0 = kv.fma(e0, dq0);
                        dq1 = kv.fma(e1, dq1);
                        dq2 = kv.fma(e2, dq2);
                        dq3 = kv.fma(e3, dq3);
                        int r = k * hd + d0;
                        q3v.fma(e3, q2v.fma(e2, q1v.fma(e1, q0v.fma(e0, FloatVector.fromArray(F, dk, r))))).intoArray(dk, r);
                    }
                    FloatVector.fromArray(F, dqkv, a0 + d0).add(dq0).intoArray(dqkv, a0 + d0);
                    if (q0 + 1 <= qLast) FloatVector.fromArray(F, dqkv, a1 + d0).add(dq1).intoArray(dqkv, a1 + d0);
                    if (q0 + 2 <= qLast) FloatVector.fromArray(F, dqkv, a2 + d0).add(dq2).intoArray(dqkv, a2 + d0);
                    if (q0 + 3 <= qLast) FloatVector.fromArray(F, dqkv, a3 + d0).add(dq3).intoArray(dqkv, a3 + d0);
                    // dV += Pᵀ·dO
                    FloatVector o0 = FloatVector.fromArray(F, dout, g0 + d0), o1 = FloatVector.fromArray(F, dout, g1 + d0);
                    FloatVector o2 = FloatVector.fromArray(F, dout, g2 + d0), o3 = FloatVector.fromArray(F, dout, g3 + d0);
                    for (int k = kLo; k <= qLast; k++) {
                        int r = k * hd + d0;
                        FloatVector acc = o0.fma(FloatVector.broadcast(F, p[k]), FloatVector.fromArray(F, dv, r));
                        acc = o1.fma(FloatVector.broadcast(F, p[ldt + k]), acc);
                        acc = o2.fma(FloatVector.broadcast(F, p[2 * ldt + k]), acc);
                        o3.fma(FloatVector.broadcast(F, p[3 * ldt + k]), acc).intoArray(dv, r);
                    }
                }
            }
            for (int t = 0; t < seqLen; t++)
                for (int d0 = 0; d0 < hd; d0 += W) {
                    int k = kb + t * ld + d0, v = vb + t * ld + d0;
                    FloatVector.fromArray(F, dqkv, k).add(FloatVector.fromArray(F, dk, t * hd + d0)).intoArray(dqkv, k);
                    FloatVector.fromArray(F, dqkv, v).add(FloatVector.fromArray(F, dv, t * hd + d0)).intoArray(dqkv, v);
                }
        }
    }
}
