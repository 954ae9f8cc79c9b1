package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The tiling model of the fused attention kernel ({@link AttentionTiling}) against the plain reference
 * ({@link Attention}): its float64 twin must agree with the float64 reference to rounding (same algorithm), the
 * float32 model must sit within a float32-sized error of the float64 reference (as the float32 reference does),
 * and the tile walk must visit exactly the tiles holding a visible element.
 */
class AttentionTilingTest {
    private static final Backend F64 = new parrot.backend.cpu.f64.CpuBackend();
    private static final int B = 2, H = 4;
    /** Relative to the largest reference magnitude of each compared array. */
    private static final double TOL_F64 = 1e-12, TOL_F32 = 2e-5;

    static AttentionSpec spec(String scheme, int hd) {
        return switch (scheme) {
            case "nope" -> AttentionSpec.plain(H, hd);
            case "alibi" -> {
                double[] s = new double[H];
                for (int h = 0; h < H; h++) s[h] = Math.pow(2, -8.0 * (h + 1) / H);
                yield new AttentionSpec(H, hd, new int[H], s);
            }
            case "window1" -> new AttentionSpec(H, hd, new int[]{1, 1, 1, 1}, new double[H]);
            case "hard-alibi" -> new AttentionSpec(H, hd, new int[]{1, 2, 0, 0}, new double[H]);
            case "windows" -> new AttentionSpec(H, hd, new int[]{3, 17, 64, 66}, new double[H]);
            case "wide" -> new AttentionSpec(H, hd, new int[]{131, 500, 1000, 129}, new double[H]);
            case "mixed" -> new AttentionSpec(H, hd, new int[]{1, 0, 9, 1000}, new double[]{0, 0.5, 0.1, 0.03});
            default -> throw new IllegalArgumentException(scheme);
        };
    }

    static final String[] SCHEMES = {"nope", "alibi", "window1", "hard-alibi", "windows", "wide", "mixed"};
    static final int[] LENGTHS = {1, 7, 63, 65, 130};

    /** Every scheme × length × head dim (32/64/128 with the kernel's tiles, tiny ones with odd tiles). */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int[][] odd = {{16, 16}, {7, 5}, {5, 12}, {1, 1}};
        int i = 0;
        for (String scheme : SCHEMES)
            for (int len : LENGTHS) {
                for (int hd : new int[]{32, 64, 128})
                    out.add(Arguments.of(scheme, len, hd, AttentionTiling.defaultBr(hd), AttentionTiling.defaultBc(hd)));
                int[] t = odd[i++ % odd.length];
                out.add(Arguments.of(scheme, len, 1 + i % 3, t[0], t[1]));
                out.add(Arguments.of(scheme, len, 8, 32, 16));
            }
        return out.stream();
    }

    static float[] randomFloats(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * rnd.nextGaussian());
        return v;
    }

    static double[] toDoubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static Tensor upload(double[] v, int... shape) {
        Tensor t = F64.zeros(shape);
        F64.upload(t, v);
        return t;
    }

    /** max |got − ref| / max(1, max |ref|); fails on any non-finite value. */
    static double relErr(String what, double[] ref, double[] got) {
        assertEquals(ref.length, got.length, what + " length");
        double maxRef = 1, maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Double.isFinite(got[i])) fail(what + ": non-finite value " + got[i] + " at " + i);
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
        }
        return maxDiff / maxRef;
    }

    static void close(String what, double[] ref, double[] got, double tol) {
        double e = relErr(what, ref, got);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }

    static void close(String what, double[] ref, float[] got, double tol) {
        close(what, ref, toDoubles(got), tol);
    }

    @ParameterizedTest(name = "{0} T={1} hd={2} tiles {3}x{4}")
    @MethodSource("cases")
    void forwardAndBackwardMatchReference(String scheme, int len, int hd, int br, int bc) {
        AttentionSpec spec = spec(scheme, hd);
        Random rnd = new Random(31L * len + 7L * hd + scheme.hashCode() + 1000L * br + bc);
        int B = hd >= 32 ? 1 : 2;                                  // batch offsets are checked on the small dims
        int rows = B * len, width = 3 * H * hd, owidth = H * hd;
        float[] qkv = randomFloats(rnd, rows * width, 1.5), dout = randomFloats(rnd, rows * owidth, 1);
        float[] dqkv0 = randomFloats(rnd, rows * width, 1);        // backward accumulates: start from non-zero

        // float64 reference
        Tensor tq = upload(toDoubles(qkv), rows, width), tOut = F64.zeros(rows, owidth), tLse = F64.zeros(B, H, len);
        F64.attentionForward(tOut, tLse, tq, spec, B, len);
        Tensor tdq = upload(toDoubles(dqkv0), rows, width);
        F64.attentionBackward(tdq, upload(toDoubles(dout), rows, owidth), tq, tOut, tLse, spec, B, len);
        double[] refOut = F64.toDoubles(tOut), refLse = F64.toDoubles(tLse), refDq = F64.toDoubles(tdq);

        // float64 twin of the tiling model: the same algorithm, so equal to rounding
        var t64 = new parrot.backend.cpu.f64.AttentionTiling(br, bc, AttentionTiling.DEFAULT_SPLIT);
        double[] out64 = new double[rows * owidth], lse64 = new double[B * H * len], dq64 = toDoubles(dqkv0);
        t64.forward(out64, lse64, toDoubles(qkv), spec, B, len);
        t64.backward(dq64, toDoubles(dout), toDoubles(qkv), out64, lse64, spec, B, len);
        close("f64 out", refOut, out64, TOL_F64);
        close("f64 lse", refLse, lse64, TOL_F64);
        close("f64 dqkv", refDq, dq64, TOL_F64);

        // float32 model against the float64 reference, with the float32 reference as the yardstick
        AttentionTiling t32 = new AttentionTiling(br, bc, AttentionTiling.DEFAULT_SPLIT);
        float[] out = new float[rows * owidth], lse = new float[B * H * len], dq = dqkv0.clone();
        t32.forward(out, lse, qkv, spec, B, len);
        t32.backward(dq, dout, qkv, out, lse, spec, B, len);
        float[] rOut = new float[rows * owidth], rLse = new float[B * H * len], rDq = dqkv0.clone();
        Attention.forward(rOut, rLse, qkv, spec, B, len);
        Attention.backward(rDq, dout, qkv, rOut, rLse, spec, B, len, false);
        close("f32 out", refOut, out, TOL_F32);
        close("f32 lse", refLse, lse, TOL_F32);
        close("f32 dqkv", refDq, dq, TOL_F32);
        close("f32 reference out", refOut, rOut, TOL_F32);
        close("f32 reference dqkv", refDq, rDq, TOL_F32);

        long nQt = (len + br - 1) / br;
        assertTrue(t32.counters().forwardTiles.sum() >= B * H * nQt, "every query tile visits a key tile");
        assertEquals(t32.counters().forwardTiles.sum(), t32.counters().backwardTiles.sum(),
                "forward and backward visit the same tiles");
    }

    @ParameterizedTest(name = "{0} hd={1}")
    @MethodSource("decodeCases")
    void decodeMatchesReference(String scheme, int hd) {
        AttentionSpec spec = spec(scheme, hd);
        int maxLen = 140, width = 3 * H * hd, owidth = H * hd, cacheN = B * H * maxLen * hd;
        Random rnd = new Random(scheme.hashCode() * 13L + hd);
        for (int pos : new int[]{0, 6, 64, 129, 139}) {
            float[] qkv = randomFloats(rnd, B * width, 1.5);
            float[] kc = randomFloats(rnd, cacheN, 1.5), vc = randomFloats(rnd, cacheN, 1);

            Tensor tk = upload(toDoubles(kc), B, H, maxLen, hd), tv = upload(toDoubles(vc), B, H, maxLen, hd);
            Tensor tOut = F64.zeros(B, owidth);
            F64.attentionDecode(tOut, upload(toDoubles(qkv), B, width), tk, tv, spec, B, pos);
            double[] ref = F64.toDoubles(tOut);

            float[] rk = kc.clone(), rv = vc.clone(), rOut = new float[B * owidth];
            Attention.decode(rOut, qkv, rk, rv, spec, B, pos, maxLen);
            for (int split : new int[]{1, 5, 64, 128, 1000}) {
                String what = scheme + " pos " + pos + " split " + split;
                var t64 = new parrot.backend.cpu.f64.AttentionTiling(64, 64, split);
                double[] k64 = toDoubles(kc), v64 = toDoubles(vc), o64 = new double[B * owidth];
                t64.decode(o64, toDoubles(qkv), k64, v64, spec, B, pos, maxLen);
                close(what + " f64", ref, o64, TOL_F64);

                AttentionTiling t32 = new AttentionTiling(64, 64, split);
                float[] k = kc.clone(), v = vc.clone(), o = new float[B * owidth];
                t32.decode(o, qkv, k, v, spec, B, pos, maxLen);
                close(what + " f32", ref, o, TOL_F32);
                assertArrayEquals(rk, k, what + " k cache");
                assertArrayEquals(rv, v, what + " v cache");
                long chunks = 0;
                for (int h = 0; h < H; h++) chunks += B * (pos / split - spec.firstKey(h, pos) / split + 1);
                assertEquals(chunks, t32.counters().decodeChunks.sum(), what + " chunks visited");
            }
            close(scheme + " pos " + pos + " f32 reference", ref, rOut, TOL_F32);
        }
    }

    static Stream<Arguments> decodeCases() {
        List<Arguments> out = new ArrayList<>();
        for (String s : SCHEMES)
            for (int hd : new int[]{3, 32, 64, 128}) out.add(Arguments.of(s, hd));
        return out.stream();
    }

    /** Brute force over elements: the tile ranges visit exactly the tiles holding a visible element. */
    @Test
    void tileRangesAreExactAndMutuallyInverse() {
        int[][] tiles = {{64, 64}, {64, 32}, {32, 64}, {16, 16}, {7, 5}, {5, 12}, {1, 1}, {3, 1}};
        for (int len : new int[]{1, 2, 7, 63, 64, 65, 130})
            for (int w : new int[]{0, 1, 2, 3, 5, 16, 63, 64, 65, 129, 1000})
                for (int[] t : tiles) {
                    int br = t[0], bc = t[1];
                    AttentionSpec spec = new AttentionSpec(1, 1, new int[]{w}, new double[1]);
                    int nQt = (len + br - 1) / br, nKt = (len + bc - 1) / bc;
                    for (int qt = 0; qt < nQt; qt++)
                        for (int kt = 0; kt < nKt; kt++) {
                            boolean any = false, all = true;
                            for (int q = qt * br; q < qt * br + br; q++)
                                for (int k = kt * bc; k < kt * bc + bc; k++) {
                                    boolean v = AttentionTiling.visible(w, q, k, len);
                                    any |= v;
                                    all &= v;
                                }
                            String at = "T=" + len + " w=" + w + " tiles " + br + "x" + bc + " (" + qt + "," + kt + ")";
                            boolean fwd = kt >= AttentionTiling.firstKeyTile(spec, 0, qt, br, bc)
                                    && kt <= AttentionTiling.lastKeyTile(qt, br, bc, len);
                            boolean bwd = qt >= AttentionTiling.firstQueryTile(kt, br, bc)
                                    && qt <= AttentionTiling.lastQueryTile(spec, 0, kt, br, bc, len);
                            assertEquals(any, fwd, at + " forward visit");
                            assertEquals(any, bwd, at + " backward visit");
                            if (any) assertEquals(!all, AttentionTiling.needsMask(w, qt * br, kt * bc, br, bc, len), at + " mask");
                        }
                }
    }

    /** A windowed head visits O(T/Bc · (w/Bc + 2)) tiles, a causal one all ⌈T/B⌉(⌈T/B⌉+1)/2. */
    @Test
    void windowedHeadsVisitLinearlyManyTiles() {
        int hd = 4;
        for (int len : new int[]{1024, 1000})
            for (int[] t : new int[][]{{64, 64}, {32, 64}, {64, 32}}) {
                int br = t[0], bc = t[1], nQt = (len + br - 1) / br;
                for (int w : new int[]{0, 1, 2, 8, 63, 64, 65, 200}) {
                    AttentionSpec spec = new AttentionSpec(1, hd, new int[]{w}, new double[1]);
                    AttentionTiling tiling = new AttentionTiling(br, bc, AttentionTiling.DEFAULT_SPLIT);
                    Random rnd = new Random(w);
                    float[] qkv = randomFloats(rnd, len * 3 * hd, 1), out = new float[len * hd], lse = new float[len];
                    tiling.forward(out, lse, qkv, spec, 1, len);
                    tiling.backward(new float[len * 3 * hd], randomFloats(rnd, len * hd, 1), qkv, out, lse, spec, 1, len);
                    long fwd = tiling.counters().forwardTiles.sum(), bwd = tiling.counters().backwardTiles.sum();
                    String at = "T=" + len + " w=" + w + " tiles " + br + "x" + bc;
                    assertEquals(fwd, bwd, at + " forward and backward tiles");
                    if (w == 0) {
                        if (br == bc) assertEquals((long) nQt * (nQt + 1) / 2, fwd, at + " causal tiles");
                        assertTrue(fwd > (long) nQt * nQt / 4, at + " causal is quadratic");
                    } else {
                        long bound = (long) nQt * ((br + w - 2) / bc + 2);  // ⌈(Br+w−1)/Bc⌉ + 1 tiles per query tile
                        assertTrue(fwd <= bound, at + ": " + fwd + " tiles > " + bound);
                        if (br == bc) assertTrue(fwd <= nQt * (w / bc + 2L), at + ": " + fwd + " tiles");
                    }
                }
            }
    }

    /**
     * Rows with nothing visible in a visited tile (a window starting inside the previous key tile, padding
     * rows past T, a single-row sequence in a 64-row tile) take the −∞ guard and produce no NaN.
     */
    @Test
    void fullyMaskedRowsInTileGiveNoNaN() {
        int hd = 8;
        Object[][] cases = {{13, 4, 4, new int[]{2, 5}}, {1, 64, 64, new int[]{0, 1}}, {21, 8, 2, new int[]{3, 0}},
                {70, 64, 64, new int[]{1, 7}}};
        for (Object[] c : cases) {
            int len = (int) c[0], br = (int) c[1], bc = (int) c[2];
            int[] win = (int[]) c[3];
            AttentionSpec spec = new AttentionSpec(2, hd, win, new double[]{0.25, 0});
            Random rnd = new Random(len);
            int rows = B * len, width = 3 * 2 * hd, owidth = 2 * hd;
            float[] qkv = randomFloats(rnd, rows * width, 3), dout = randomFloats(rnd, rows * owidth, 1);
            AttentionTiling tiling = new AttentionTiling(br, bc, 4);
            float[] out = new float[rows * owidth], lse = new float[B * 2 * len], dq = new float[rows * width];
            tiling.forward(out, lse, qkv, spec, B, len);
            tiling.backward(dq, dout, qkv, out, lse, spec, B, len);
            assertTrue(tiling.counters().guardedRows.sum() > 0, "T=" + len + ": the guard was exercised");
            float[] rOut = new float[rows * owidth], rLse = new float[B * 2 * len], rDq = new float[rows * width];
            Attention.forward(rOut, rLse, qkv, spec, B, len);
            Attention.backward(rDq, dout, qkv, rOut, rLse, spec, B, len, false);
            close("T=" + len + " out", toDoubles(rOut), out, TOL_F32);     // relErr also rejects NaN/inf
            close("T=" + len + " lse", toDoubles(rLse), lse, TOL_F32);
            close("T=" + len + " dqkv", toDoubles(rDq), dq, TOL_F32);
        }
    }
}
