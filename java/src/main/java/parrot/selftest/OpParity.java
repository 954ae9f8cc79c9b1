package parrot.selftest;

import parrot.backend.AdamWParams;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.selftest.Pairs.Pair;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Every Backend op on a candidate backend against a reference, on fresh random inputs, several shapes including
 * odd ones. Overwritten outputs are poisoned with NaN first; gradients that an op accumulates into start from the
 * same random values on both sides, so accumulation is checked too. Errors are max-abs relative to the
 * reference's largest magnitude.
 */
public final class OpParity {
    /** A named check; run it to get its worst relative error. */
    public record Check(String name, double tolerance, ToDoubleFunction<Pairs> body) {
    }

    private OpParity() {
    }

    public static List<CheckResult> run(Backend ref, Backend cand, double tolScale) {
        List<CheckResult> out = new ArrayList<>();
        long seed = 1;
        for (Check c : checks()) {
            Pairs p = new Pairs(ref, cand, seed++);
            double tol = c.tolerance() * tolScale;
            try {
                double err = c.body().applyAsDouble(p);
                out.add(new CheckResult(c.name(), err <= tol ? "PASSED" : "FAILED", err, tol, ""));
            } catch (RuntimeException e) {
                out.add(new CheckResult(c.name(), "FAILED", Double.NaN, tol, e.toString()));
            }
        }
        return out;
    }

    public static List<Check> checks() {
        List<Check> cs = new ArrayList<>();
        for (int n : new int[]{1, 7, 1000, 65537}) {
            cs.add(new Check("add n=" + n, 1e-6, p -> {
                Pair a = p.random(1, n), b = p.random(1, n), o = p.poisoned(n);
                both(p, be -> be.add(sel(p, be, o), sel(p, be, a), sel(p, be, b)));
                return p.error(o);
            }));
            cs.add(new Check("accumulate n=" + n, 1e-6, p -> {
                Pair a = p.random(1, n), b = p.random(1, n);
                both(p, be -> be.accumulate(sel(p, be, a), sel(p, be, b)));
                return p.error(a);
            }));
            cs.add(new Check("scale n=" + n, 1e-6, p -> {
                Pair a = p.random(1, n);
                both(p, be -> be.scale(sel(p, be, a), -0.37));
                return p.error(a);
            }));
            cs.add(new Check("sumSquares n=" + n, 1e-5, p -> {
                Pair a = p.random(1, n);
                double r = pRef(p).sumSquares(a.ref()), c = pCand(p).sumSquares(a.cand());
                return Math.abs(r - c) / Math.max(r, 1e-12);
            }));
            cs.add(new Check("gelu n=" + n, 1e-5, p -> {
                Pair x = p.random(2, n), o = p.poisoned(n), d = p.random(1, n), dx = p.random(1, n);
                both(p, be -> {
                    be.geluForward(sel(p, be, o), sel(p, be, x));
                    be.geluBackward(sel(p, be, dx), sel(p, be, d), sel(p, be, x));
                });
                return Math.max(p.error(o), p.error(dx));
            }));
        }
        int[][] linearShapes = {{1, 1, 1}, {7, 13, 5}, {64, 64, 256}, {130, 256, 64}, {33, 64, 30}};
        for (int[] s : linearShapes) {
            int n = s[0], ni = s[1], no = s[2];
            for (boolean bias : new boolean[]{true, false}) {
                cs.add(new Check("linear " + n + "x" + ni + "->" + no + (bias ? " +bias" : ""), 1e-4, p -> {
                    Pair x = p.random(1, n, ni), w = p.random(0.2, no, ni), b = bias ? p.random(1, no) : null;
                    Pair o = p.poisoned(n, no), d = p.random(1, n, no);
                    Pair dx = p.random(1, n, ni), dw = p.random(1, no, ni), db = bias ? p.random(1, no) : null;
                    both(p, be -> {
                        be.linearForward(sel(p, be, o), sel(p, be, x), sel(p, be, w), sel(p, be, b));
                        be.linearBackward(sel(p, be, dx), sel(p, be, dw), sel(p, be, db), sel(p, be, d), sel(p, be, x), sel(p, be, w));
                    });
                    return max(p.error(o), p.error(dx), p.error(dw), bias ? p.error(db) : 0);
                }));
            }
        }
        for (int[] s : new int[][]{{1, 8}, {9, 64}, {130, 1024}}) {
            int n = s[0], c = s[1];
            cs.add(new Check("layernorm " + n + "x" + c, 1e-4, p -> {
                Pair x = p.random(2, n, c), w = p.random(1, c), b = p.random(1, c), o = p.poisoned(n, c);
                Pair mean = p.poisoned(n), rstd = p.poisoned(n), d = p.random(1, n, c);
                Pair dx = p.random(1, n, c), dw = p.random(1, c), db = p.random(1, c);
                both(p, be -> {
                    be.layerNormForward(sel(p, be, o), sel(p, be, mean), sel(p, be, rstd), sel(p, be, x), sel(p, be, w), sel(p, be, b), 1e-5);
                    be.layerNormBackward(sel(p, be, dx), sel(p, be, dw), sel(p, be, db), sel(p, be, d), sel(p, be, x), sel(p, be, w),
                            sel(p, be, mean), sel(p, be, rstd));
                });
                return max(p.error(o), p.error(mean), p.error(rstd), p.error(dx), p.error(dw), p.error(db));
            }));
        }
        for (int[] s : new int[][]{{5, 30, 8}, {300, 30, 64}}) {
            int n = s[0], v = s[1], c = s[2];
            cs.add(new Check("embedding " + n + " of " + v + "x" + c, 1e-6, p -> {
                Pair tok = p.ints(v, n), table = p.random(1, v, c), o = p.poisoned(n, c), d = p.random(1, n, c), dt = p.random(1, v, c);
                both(p, be -> {
                    be.embeddingForward(sel(p, be, o), sel(p, be, tok), sel(p, be, table));
                    be.embeddingBackward(sel(p, be, dt), sel(p, be, d), sel(p, be, tok));
                });
                return Math.max(p.error(o), p.error(dt) / 10);
            }));
        }
        for (int[] s : new int[][]{{2, 9, 4, 8, 0}, {1, 33, 2, 64, 5}}) {
            int b = s[0], t = s[1], h = s[2], hd = s[3], off = s[4];
            RopeSpec spec = RopeSpec.of(h, hd, 0.5, 10000);
            cs.add(new Check("rope b=" + b + " t=" + t + " hd=" + hd + " offset=" + off, 1e-5, p -> {
                Pair x = p.random(1, b * t, 3 * h * hd), o = p.poisoned(b * t, 3 * h * hd);
                Pair d = p.random(1, b * t, 3 * h * hd), dx = p.random(1, b * t, 3 * h * hd);
                both(p, be -> {
                    be.ropeForward(sel(p, be, o), sel(p, be, x), spec, b, t, off);
                    be.ropeBackward(sel(p, be, dx), sel(p, be, d), spec, b, t, off);
                });
                return Math.max(p.error(o), p.error(dx));
            }));
        }
        attention(cs);
        for (int[] s : new int[][]{{1, 30}, {77, 30}, {513, 1000}}) {
            int n = s[0], v = s[1];
            cs.add(new Check("cross-entropy " + n + "x" + v, 1e-5, p -> {
                int[] tg = new int[n];
                for (int i = 0; i < n; i++) tg[i] = i % 3 == 1 ? -1 : p.nextInt(v);
                Pair logits = p.random(3, n, v), targets = p.ints(tg, n), dl = p.poisoned(n, v);
                double r = pRef(p).crossEntropy(dl.ref(), logits.ref(), targets.ref(), 0.01);
                double c = pCand(p).crossEntropy(dl.cand(), logits.cand(), targets.cand(), 0.01);
                Pair am = p.ints(0, n);
                both(p, be -> be.argmax(sel(p, be, am), sel(p, be, logits)));
                return max(Math.abs(r - c) / Math.max(Math.abs(r), 1e-9), p.error(dl), p.intMismatch(am));
            }));
        }
        for (int n : new int[]{3, 4099}) {
            cs.add(new Check("adamw n=" + n, 1e-5, p -> {
                Pair w = p.random(1, n), g = p.random(1, n), m = p.random(0.1, n), v = p.random(0, n);
                AdamWParams hp = new AdamWParams(0.9, 0.95, 1e-8);
                both(p, be -> {
                    for (int step = 1; step <= 3; step++)
                        be.adamw(sel(p, be, w), sel(p, be, g), sel(p, be, m), sel(p, be, v), hp, 0.1, step, 1e-2);
                });
                return max(p.error(w), p.error(m), p.error(v));
            }));
        }
        return cs;
    }

    private static void attention(List<Check> cs) {
        record Scheme(String name, int[] windows, double[] slopes) {
        }
        int h = 4;
        List<Scheme> schemes = List.of(
                new Scheme("nope", new int[h], new double[h]),
                new Scheme("alibi", new int[h], new double[]{0.5, 0.25, 0.125, 0.0625}),
                new Scheme("hard-alibi", new int[]{1, 2, 0, 0}, new double[h]),
                new Scheme("windows", new int[]{1, 17, 200, 3}, new double[h]));
        for (Scheme sc : schemes) {
            for (int[] s : new int[][]{{2, 7, 8}, {1, 65, 32}, {1, 130, 64}, {1, 33, 128}}) {
                int b = s[0], t = s[1], hd = s[2];
                AttentionSpec spec = new AttentionSpec(h, hd, sc.windows(), sc.slopes());
                cs.add(new Check("attention " + sc.name() + " b=" + b + " t=" + t + " hd=" + hd, 2e-4, p -> {
                    Pair qkv = p.random(1, b * t, 3 * h * hd), o = p.poisoned(b * t, h * hd), lse = p.poisoned(b, h, t);
                    Pair d = p.random(1, b * t, h * hd), dqkv = p.random(1, b * t, 3 * h * hd);
                    both(p, be -> {
                        be.attentionForward(sel(p, be, o), sel(p, be, lse), sel(p, be, qkv), spec, b, t);
                        be.attentionBackward(sel(p, be, dqkv), sel(p, be, d), sel(p, be, qkv), sel(p, be, o), sel(p, be, lse), spec, b, t);
                    });
                    return max(p.error(o), p.error(lse), p.error(dqkv));
                }));
                cs.add(new Check("attention-decode " + sc.name() + " b=" + b + " t=" + t + " hd=" + hd, 2e-4, p -> {
                    Pair kc = p.random(1, b, h, t + 3, hd), vc = p.random(1, b, h, t + 3, hd);
                    Pair qkv = p.random(1, b, 3 * h * hd), o = p.poisoned(b, h * hd);
                    both(p, be -> be.attentionDecode(sel(p, be, o), sel(p, be, qkv), sel(p, be, kc), sel(p, be, vc), spec, b, t - 1));
                    return max(p.error(o), p.error(kc), p.error(vc));
                }));
            }
        }
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    private static Backend pRef(Pairs p) {
        return p.refBackend();
    }

    private static Backend pCand(Pairs p) {
        return p.candBackend();
    }

    /** Runs the same body on the reference and on the candidate. */
    private static void both(Pairs p, java.util.function.Consumer<Backend> body) {
        body.accept(p.refBackend());
        body.accept(p.candBackend());
    }

    /** The side of a pair that lives on backend be. */
    private static parrot.backend.Tensor sel(Pairs p, Backend be, Pair x) {
        if (x == null) return null;
        return be == p.refBackend() ? x.ref() : x.cand();
    }

    private static double max(double... v) {
        double m = 0;
        for (double x : v) m = Double.isNaN(x) ? Double.POSITIVE_INFINITY : Math.max(m, x);
        return m;
    }
}
