package parrot.selftest;

import static parrot.selftest.OpParity.both;
import static parrot.selftest.OpParity.max;
import static parrot.selftest.OpParity.pCand;
import static parrot.selftest.OpParity.pRef;
import static parrot.selftest.OpParity.sel;

import parrot.backend.AttentionSpec;
import parrot.backend.cuda.AttentionPrecision;
import parrot.selftest.Pairs.Pair;
import parrot.selftest.ParitySuite.Check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Attention: forward (out, lse) and backward (dq, dk, dv, accumulating) of every scheme in every precision the
 * candidate offers, a windowed sequence over many tiles, and decoding (one step on random caches, and a whole
 * sequence step by step against the full forward).
 */
final class AttentionParity {
    /** B, T, H, hd: odd lengths around the tiles (Br = 64, Bc = 64 or 32), head dims 32/64/128, small and odd ones. */
    private static final int[][] SHAPES = {{1, 1, 1, 8}, {2, 17, 3, 16}, {1, 70, 4, 64}, {2, 33, 2, 40},
            {1, 9, 2, 130}, {2, 65, 4, 32}, {1, 130, 4, 128}, {2, 63, 3, 128}, {1, 129, 2, 37}, {1, 7, 2, 64}};
    /** The same edges for the tensor-core precisions, fewer of them. */
    private static final int[][] FEWER = {{1, 1, 1, 8}, {2, 17, 3, 16}, {1, 70, 4, 64}, {1, 9, 2, 130},
            {1, 130, 4, 128}, {1, 129, 2, 37}};
    /**
     * SIMPLE's per-row kernels have no tiles; their edges are one row, odd head dims, head dims past 128 and
     * windows. (They are also the emulator's slowest: one row per block, O(T²) work per head.)
     */
    private static final int[][] SIMPLE_SHAPES = {{1, 1, 1, 8}, {2, 17, 3, 16}, {1, 9, 2, 130}, {2, 33, 2, 37}};

    private AttentionParity() {
    }

    /**
     * Against the float64 reference on the same float32 inputs: FP32 and SIMPLE within float32 rounding; BF16 and
     * TF32 with room for rounding the operands to bf16 (8 bits) or tf32 (11 bits), as the emulator's kernel tests
     * (make kernels-emu-test) measure.
     */
    static double tolerance(AttentionPrecision p) {
        return switch (p) {
            case FP32, SIMPLE -> 1e-4;
            case TF32 -> 8e-3;
            case BF16 -> 6e-2;
        };
    }

    static List<Check> checks() {
        List<Check> cs = new ArrayList<>();
        for (AttentionPrecision prec : AttentionPrecision.values()) {
            String variant = Candidate.attention(prec);
            double tol = tolerance(prec);
            int[][] shapes = switch (prec) {
                case FP32 -> SHAPES;
                case SIMPLE -> SIMPLE_SHAPES;
                default -> FEWER;
            };
            for (int[] s : shapes) {
                int b = s[0], t = s[1], h = s[2], hd = s[3];
                for (Scheme sc : schemes(h, t)) {
                    AttentionSpec spec = new AttentionSpec(h, hd, sc.windows(), sc.slopes());
                    cs.add(new Check("attention " + sc.name() + " b=" + b + " t=" + t + " h=" + h + " hd=" + hd
                            + " (forward bitwise reproducible)", variant, tol, p -> forwardBackward(p, spec, b, t)));
                }
            }
            // windowed heads over many tiles (the O(T·w) path), beside an ALiBi head and a full one
            AttentionSpec wide = new AttentionSpec(4, 64, new int[]{1, 64, 65, 0}, new double[]{0, 0, 0.25, 0.0625});
            int t = prec == AttentionPrecision.SIMPLE ? 140 : 300;
            cs.add(new Check("attention windows 1/64/65/0 b=1 t=" + t + " h=4 hd=64", variant, tol,
                    p -> forwardBackward(p, wide, 1, t)));
        }
        for (int[] s : new int[][]{{2, 7, 4, 8}, {1, 65, 4, 32}, {1, 130, 4, 64}, {1, 33, 4, 128}}) {
            int b = s[0], t = s[1], h = s[2], hd = s[3];
            for (Scheme sc : schemes(h, t)) {
                AttentionSpec spec = new AttentionSpec(h, hd, sc.windows(), sc.slopes());
                cs.add(new Check("attention-decode one step " + sc.name() + " b=" + b + " t=" + t + " hd=" + hd, 2e-4, p -> {
                    Pair kc = p.random(1, b, h, t + 3, hd), vc = p.random(1, b, h, t + 3, hd);
                    Pair qkv = p.random(1, b, 3 * h * hd), o = p.poisoned(b, h * hd);
                    both(p, be -> be.attentionDecode(sel(p, be, o), sel(p, be, qkv), sel(p, be, kc), sel(p, be, vc), spec, b, t - 1));
                    return max(p.error(o), p.error(kc), p.error(vc));
                }));
            }
        }
        // split-KV decoding (FP32 in every flash precision; SIMPLE has its own kernel), a whole sequence
        for (AttentionPrecision prec : new AttentionPrecision[]{AttentionPrecision.FP32, AttentionPrecision.BF16,
                AttentionPrecision.SIMPLE}) {
            int[][] shapes = prec == AttentionPrecision.FP32
                    ? new int[][]{{1, 1, 1, 8}, {2, 17, 3, 16}, {2, 33, 2, 40}, {1, 9, 2, 130}, {1, 140, 4, 64}}
                    : prec == AttentionPrecision.SIMPLE ? new int[][]{{2, 17, 3, 16}, {1, 9, 2, 130}, {1, 70, 4, 64}}
                    : new int[][]{{2, 17, 3, 16}, {1, 9, 2, 130}, {1, 140, 4, 64}};
            for (int[] s : shapes) {
                int b = s[0], t = s[1], h = s[2], hd = s[3];
                for (Scheme sc : schemes(h, t)) {
                    AttentionSpec spec = new AttentionSpec(h, hd, sc.windows(), sc.slopes());
                    cs.add(new Check("attention-decode sequence " + sc.name() + " b=" + b + " t=" + t + " h=" + h + " hd="
                            + hd + " (vs the full forward; caches bitwise)", Candidate.attention(prec), 2e-4,
                            p -> decodeSequence(p, spec, b, t)));
                }
            }
        }
        return cs;
    }

    private static double forwardBackward(Pairs p, AttentionSpec spec, int b, int t) {
        int h = spec.heads(), hd = spec.headDim();
        Pair qkv = p.random(1, b * t, 3 * h * hd), o = p.poisoned(b * t, h * hd), lse = p.poisoned(b, h, t);
        Pair d = p.random(1, b * t, h * hd), dqkv = p.random(1, b * t, 3 * h * hd);
        both(p, be -> {
            be.attentionForward(sel(p, be, o), sel(p, be, lse), sel(p, be, qkv), spec, b, t);
            be.attentionBackward(sel(p, be, dqkv), sel(p, be, d), sel(p, be, qkv), sel(p, be, o), sel(p, be, lse), spec, b, t);
        });
        double e = max(p.error(o), p.error(lse, 1.0), p.error(dqkv));
        double[] first = pCand(p).toDoubles(o.cand());
        pCand(p).attentionForward(o.cand(), lse.cand(), qkv.cand(), spec, b, t);
        return max(e, Arrays.equals(first, pCand(p).toDoubles(o.cand())) ? 0 : Double.POSITIVE_INFINITY);
    }

    private static double decodeSequence(Pairs p, AttentionSpec spec, int b, int t) {
        int h = spec.heads(), hd = spec.headDim(), w3 = 3 * h * hd, w = h * hd, maxLen = t + 3;
        Pair full = p.random(1, b * t, w3), fullOut = p.poisoned(b * t, w), lse = p.poisoned(b, h, t);
        pRef(p).attentionForward(fullOut.ref(), lse.ref(), full.ref(), spec, b, t);
        double[] all = pRef(p).toDoubles(full.ref()), fwd = pRef(p).toDoubles(fullOut.ref());
        Pair kc = p.of(new double[b * h * maxLen * hd], b, h, maxLen, hd), vc = p.of(new double[b * h * maxLen * hd], b, h, maxLen, hd);
        double e = 0;
        for (int pos = 0; pos < t; pos++) {
            double[] step = new double[b * w3], want = new double[b * w];
            for (int bi = 0; bi < b; bi++) {
                System.arraycopy(all, (bi * t + pos) * w3, step, bi * w3, w3);
                System.arraycopy(fwd, (bi * t + pos) * w, want, bi * w, w);
            }
            Pair qkv = p.of(step, b, w3), out = p.poisoned(b, w);
            int at = pos;
            both(p, be -> be.attentionDecode(sel(p, be, out), sel(p, be, qkv), sel(p, be, kc), sel(p, be, vc), spec, b, at));
            e = max(e, p.error(out), p.error(want, pCand(p).toDoubles(out.cand()), "decode vs full forward, position " + pos));
        }
        double caches = p.error(kc) == 0 && p.error(vc) == 0 ? 0 : Double.POSITIVE_INFINITY;
        return max(e, caches);
    }

    record Scheme(String name, int[] windows, double[] slopes) {
    }

    /** NoPE, ALiBi, Hard-ALiBi (windows 1, 2, …; the rest NoPE), mixed, and windows longer than the sequence. */
    static List<Scheme> schemes(int h, int t) {
        int[] hard = new int[h], wide = new int[h];
        double[] alibi = new double[h];
        for (int i = 0; i < h; i++) {
            hard[i] = i < (h + 1) / 2 ? i + 1 : 0;
            alibi[i] = Math.pow(2, -8.0 * (i + 1) / h);
            wide[i] = i % 2 == 0 ? t + 1 + i : (i % 4 == 1 ? 0 : t);
        }
        double[] mixedS = alibi.clone();
        for (int i = 0; i < h; i += 2) mixedS[i] = 0;
        return List.of(new Scheme("nope", new int[h], new double[h]), new Scheme("alibi", new int[h], alibi),
                new Scheme("hard-alibi", hard, new double[h]), new Scheme("hard-alibi+alibi", hard.clone(), mixedS),
                new Scheme("windows>t", wide, new double[h]));
    }
}
