package parrot.selftest;

import parrot.backend.AdamWParams;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.selftest.Pairs.Pair;

import java.util.ArrayList;
import java.util.List;
import parrot.selftest.ParitySuite.Check;

/**
 * Every Backend op on a candidate backend against a reference, on fresh random inputs, several shapes including
 * odd ones. Overwritten outputs are poisoned with NaN first; gradients that an op accumulates into start from the
 * same random values on both sides, so accumulation is checked too. Errors are max-abs relative to the
 * reference's largest magnitude.
 */
final class OpParity {
    private OpParity() {
    }

    /** Elementwise sizes: one element, odd, one block (256) and one more, several blocks with a partial one. */
    private static final int[] SIZES = {1, 7, 257, 4099, 65537};

    static List<Check> checks() {
        List<Check> cs = new ArrayList<>();
        elementwise(cs);
        layers(cs);
        lossAndOptimizer(cs);
        mambaAndLstm(cs);
        multiTensor(cs);
        return cs;
    }

    private static void elementwise(List<Check> cs) {
        for (int n : SIZES) {
            cs.add(new Check("add n=" + n, 1e-6, p -> {
                Pair a = p.random(1, n), b = p.random(1, n), o = p.poisoned(n);
                both(p, be -> be.add(sel(p, be, o), sel(p, be, a), sel(p, be, b)));
                double e = p.error(o);
                both(p, be -> be.add(sel(p, be, a), sel(p, be, a), sel(p, be, b)));    // aliased output
                return max(e, p.error(a));
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
            cs.add(new Check("gelu n=" + n, 1e-5, p -> {
                Pair x = p.random(3, n), o = p.poisoned(n), d = p.random(1, n), dx = p.random(1, n);
                both(p, be -> {
                    be.geluForward(sel(p, be, o), sel(p, be, x));
                    be.geluBackward(sel(p, be, dx), sel(p, be, d), sel(p, be, x));
                });
                return Math.max(p.error(o), p.error(dx));
            }));
        }
        // 262145: one more than the reduction's full grid (1024 blocks of 256), so its grid-stride loop runs twice
        for (int n : new int[]{1, 7, 256, 257, 4099, 262145}) {
            cs.add(new Check("sumSquares n=" + n + " (bitwise reproducible)", 1e-5, p -> {
                Pair a = p.random(1, n);
                double r = pRef(p).sumSquares(a.ref()), c = pCand(p).sumSquares(a.cand()), again = pCand(p).sumSquares(a.cand());
                return max(Math.abs(r - c) / Math.max(r, 1e-12), bitwise(c, again));
            }));
        }
        cs.add(new Check("copy, zero, upload and download of floats, doubles and ints", 0, p -> {
            Pair a = p.random(1, 3, 5), b = p.poisoned(3, 5);
            both(p, be -> be.copy(sel(p, be, b), sel(p, be, a)));
            double e = p.error(b);
            pCand(p).zero(b.cand());
            for (double x : pCand(p).toDoubles(b.cand())) e = max(e, x == 0 ? 0 : Double.POSITIVE_INFINITY);
            double[] d = {1.5, -2.25, 1e-3};
            Pair t = p.of(new double[3], 3);
            pCand(p).upload(t.cand(), d);
            double[] back = pCand(p).toDoubles(t.cand());
            for (int i = 0; i < 3; i++) e = max(e, back[i] == (float) d[i] ? 0 : Double.POSITIVE_INFINITY);
            int[] ints = {3, -1, 7, Integer.MAX_VALUE};
            Pair it = p.ints(new int[4], 2, 2);
            pCand(p).uploadInts(it.cand(), ints);
            e = max(e, java.util.Arrays.equals(ints, pCand(p).toInts(it.cand())) ? 0 : Double.POSITIVE_INFINITY);
            return e;
        }));
    }

    private static void layers(List<Check> cs) {
        for (int[] s : new int[][]{{1, 1, 1}, {7, 5, 3}, {130, 30, 67}, {333, 1000, 129}}) {   // N, V, C
            int n = s[0], v = s[1], c = s[2];
            cs.add(new Check("embedding " + n + " of " + v + "x" + c + " (backward bitwise reproducible)", 1e-5, p -> {
                int[] tok = new int[n];
                for (int i = 0; i < n; i++) tok[i] = i % 5 == 0 ? v - 1 : p.nextInt(v);     // repeats on purpose
                Pair tokens = p.ints(tok, n), table = p.random(1, v, c), o = p.poisoned(n, c), d = p.random(1, n, c);
                double[] init = p.refBackend().toDoubles(p.random(1, v, c).ref());
                Pair dt = p.of(init, v, c);
                both(p, be -> {
                    be.embeddingForward(sel(p, be, o), sel(p, be, tokens), sel(p, be, table));
                    be.embeddingBackward(sel(p, be, dt), sel(p, be, d), sel(p, be, tokens));
                });
                double exact = p.error(o) == 0 ? 0 : Double.POSITIVE_INFINITY;       // a gather moves bits
                double[] first = pCand(p).toDoubles(dt.cand());
                pCand(p).upload(dt.cand(), init);
                pCand(p).embeddingBackward(dt.cand(), d.cand(), tokens.cand());
                return max(exact, p.error(dt), java.util.Arrays.equals(first, pCand(p).toDoubles(dt.cand())) ? 0
                        : Double.POSITIVE_INFINITY);
            }));
        }
        // GEMM tiles are 64 x 64: one, several with partial ones, odd sizes; cuBLAS (the default) and the builtin kernel
        int[][] linearShapes = {{1, 1, 1}, {7, 5, 3}, {7, 13, 5}, {33, 64, 30}, {33, 64, 65}, {64, 64, 256}, {130, 67, 129},
                {130, 256, 64}};
        for (String variant : new String[]{Candidate.DEFAULT, Candidate.GEMM_BUILTIN}) {
            for (int[] s : linearShapes) {
                int n = s[0], ni = s[1], no = s[2];
                for (String mode : new String[]{"+bias", "", "dweight only"}) {
                    boolean bias = mode.equals("+bias"), onlyDw = mode.equals("dweight only");
                    cs.add(new Check("linear " + n + "x" + ni + "->" + no + (mode.isEmpty() ? "" : " " + mode), variant, 3e-5, p -> {
                        Pair x = p.random(1, n, ni), w = p.random(0.2, no, ni), b = bias ? p.random(1, no) : null;
                        Pair o = p.poisoned(n, no), d = p.random(1, n, no);
                        Pair dx = onlyDw ? null : p.random(1, n, ni), dw = p.random(1, no, ni), db = bias ? p.random(1, no) : null;
                        both(p, be -> {
                            be.linearForward(sel(p, be, o), sel(p, be, x), sel(p, be, w), sel(p, be, b));
                            be.linearBackward(sel(p, be, dx), sel(p, be, dw), sel(p, be, db), sel(p, be, d), sel(p, be, x), sel(p, be, w));
                        });
                        return max(p.error(o), dx == null ? 0 : p.error(dx), p.error(dw), bias ? p.error(db) : 0);
                    }));
                }
            }
        }
        // rows per block 4: one row, a partial block, wide rows past one block's columns; inputs off zero (mean 2)
        for (int[] s : new int[][]{{1, 1}, {7, 5}, {9, 64}, {130, 67}, {33, 1024}, {3, 4099}}) {
            int n = s[0], c = s[1];
            cs.add(new Check("layernorm " + n + "x" + c, 1e-4, p -> {
                Pair x = p.shifted(3, 2, n, c), w = p.random(1, c), b = p.random(1, c), o = p.poisoned(n, c);
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
        // rotary fractions 1/4 and 1/2 and full (hd rounded down to even), offsets 0, 5 and 999, in place too
        for (int[] s : new int[][]{{2, 9, 4, 8}, {1, 33, 2, 64}, {2, 17, 3, 16}, {1, 9, 2, 130}, {1, 70, 4, 64}}) {
            int b = s[0], t = s[1], h = s[2], hd = s[3];
            for (RopeSpec spec : new RopeSpec[]{RopeSpec.of(h, hd, 0.25, 10000), RopeSpec.of(h, hd, 0.5, 10000),
                    new RopeSpec(h, hd, hd - hd % 2, 10000)}) {
                cs.add(new Check("rope b=" + b + " t=" + t + " h=" + h + " hd=" + hd + " rot=" + spec.rotaryDims()
                        + " offsets 0/5/999, in place", 1e-5, p -> {
                    double e = 0;
                    for (int off : new int[]{0, 5, 999}) {
                        Pair x = p.random(1, b * t, 3 * h * hd), o = p.poisoned(b * t, 3 * h * hd);
                        Pair d = p.random(1, b * t, 3 * h * hd), dx = p.random(1, b * t, 3 * h * hd);
                        both(p, be -> {
                            be.ropeForward(sel(p, be, o), sel(p, be, x), spec, b, t, off);
                            be.ropeForward(sel(p, be, x), sel(p, be, x), spec, b, t, off);
                            be.ropeBackward(sel(p, be, dx), sel(p, be, d), spec, b, t, off);
                        });
                        e = max(e, p.error(o), p.error(x), p.error(dx));
                    }
                    return e;
                }));
            }
        }
    }

    private static void lossAndOptimizer(List<Check> cs) {
        // 256 threads per row: one, a partial pass, several passes and GPT-2's vocabulary (many passes)
        for (int[] s : new int[][]{{1, 1}, {7, 5}, {77, 30}, {130, 30}, {513, 1000}, {5, 4099}, {3, 50304}}) {
            int n = s[0], v = s[1];
            cs.add(new Check("cross-entropy " + n + "x" + v + " masked (loss bitwise reproducible, with and without dlogits)",
                    1e-5, p -> {
                int[] tg = new int[n];
                for (int i = 0; i < n; i++) tg[i] = i % 3 == 1 ? -1 : p.nextInt(v);
                Pair logits = p.random(4, n, v), targets = p.ints(tg, n), dl = p.poisoned(n, v);
                double r = pRef(p).crossEntropy(dl.ref(), logits.ref(), targets.ref(), 0.125);
                double c = pCand(p).crossEntropy(dl.cand(), logits.cand(), targets.cand(), 0.125);
                double again = pCand(p).crossEntropy(null, logits.cand(), targets.cand(), 0.125);
                return max(Math.abs(r - c) / Math.max(Math.abs(r), 1e-9), p.error(dl), bitwise(c, again));
            }));
        }
        for (int[] s : new int[][]{{1, 1}, {7, 5}, {130, 30}, {3, 50304}}) {
            int n = s[0], v = s[1];
            cs.add(new Check("argmax " + n + "x" + v + " (ties: the lowest index)", 0, p -> {
                double[] x = new double[n * v];
                for (int i = 0; i < x.length; i++) x[i] = p.nextGaussian();
                int[] first = new int[n];
                for (int i = 0; i < n; i++) {                       // plant ties of the row maximum
                    int a = p.nextInt(v), b = p.nextInt(v);
                    x[i * v + a] = 10;
                    x[i * v + b] = 10;
                    first[i] = Math.min(a, b);
                }
                Pair logits = p.of(x, n, v), am = p.ints(0, n);
                both(p, be -> be.argmax(sel(p, be, am), sel(p, be, logits)));
                int[] got = pCand(p).toInts(am.cand());
                return max(p.intMismatch(am), java.util.Arrays.equals(first, got) ? 0 : Double.POSITIVE_INFINITY);
            }));
        }
        for (int n : new int[]{1, 3, 257, 4099, 70001}) {
            cs.add(new Check("adamw n=" + n + " (3 steps)", 1e-5, p -> {
                Pair w = p.random(1, n), m = p.random(0.1, n), v = p.uniform(0, 0.01, n);
                AdamWParams hp = new AdamWParams(0.9, 0.95, 1e-8);
                for (int step = 1; step <= 3; step++) {
                    Pair g = p.random(1, n);
                    int st = step;
                    both(p, be -> be.adamw(sel(p, be, w), sel(p, be, g), sel(p, be, m), sel(p, be, v), hp, 0.1, st, 1e-2));
                }
                return max(p.error(w), p.error(m), p.error(v));
            }));
        }
    }

    /** 0 when two doubles are the same bits, else infinite: reproducibility, which no tolerance excuses. */
    static double bitwise(double a, double b) {
        return Double.doubleToRawLongBits(a) == Double.doubleToRawLongBits(b) ? 0 : Double.POSITIVE_INFINITY;
    }

    // ---- Mamba and LSTM ops -------------------------------------------------------------------------------

    private static void mambaAndLstm(List<Check> cs) {
        for (int n : new int[]{1, 7, 1000, 65537}) {
            cs.add(new Check("silu n=" + n, 1e-5, p -> {
                Pair x = p.random(3, n), o = p.poisoned(n), d = p.random(1, n), dx = p.random(1, n);
                both(p, be -> {
                    be.siluForward(sel(p, be, o), sel(p, be, x));
                    be.siluBackward(sel(p, be, dx), sel(p, be, d), sel(p, be, x));
                });
                return Math.max(p.error(o), p.error(dx));
            }));
            cs.add(new Check("negexp n=" + n, 1e-5, p -> {
                Pair x = p.random(1, n), o = p.poisoned(n), d = p.random(1, n), dx = p.random(1, n);
                both(p, be -> {
                    be.negExpForward(sel(p, be, o), sel(p, be, x));
                    be.negExpBackward(sel(p, be, dx), sel(p, be, d), sel(p, be, o));
                });
                return Math.max(p.error(o), p.error(dx));
            }));
        }
        for (int[] s : new int[][]{{1, 3, 5, 1, 2, 2}, {37, 10, 9, 4, 3, 5}, {300, 64, 96, 0, 32, 32}}) {
            int rows = s[0], dc = s[1], sc = s[2], dcol = s[3], scol = s[4], width = s[5];
            cs.add(new Check("copy-columns " + rows + "x" + width, 1e-6, p -> {
                Pair src = p.random(1, rows, sc), dst = p.random(1, rows, dc), acc = p.random(1, rows, dc);
                both(p, be -> {
                    be.copyColumns(sel(p, be, dst), dcol, sel(p, be, src), scol, width, false);
                    be.copyColumns(sel(p, be, acc), dcol, sel(p, be, src), scol, width, true);
                });
                return Math.max(p.error(dst), p.error(acc));
            }));
        }
        for (int[] s : new int[][]{{1, 8}, {9, 64}, {7, 67}, {130, 1024}}) {
            int n = s[0], c = s[1];
            cs.add(new Check("rmsnorm " + n + "x" + c, 1e-4, p -> {
                Pair x = p.random(2, n, c), w = p.random(1, c), o = p.poisoned(n, c), rstd = p.poisoned(n);
                Pair d = p.random(1, n, c), dx = p.random(1, n, c), dw = p.random(1, c);
                both(p, be -> {
                    be.rmsNormForward(sel(p, be, o), sel(p, be, rstd), sel(p, be, x), sel(p, be, w), 1e-5);
                    be.rmsNormBackward(sel(p, be, dx), sel(p, be, dw), sel(p, be, d), sel(p, be, x), sel(p, be, w),
                            sel(p, be, rstd));
                });
                return max(p.error(o), p.error(rstd), p.error(dx), p.error(dw));
            }));
        }
        for (int[] s : new int[][]{{1, 1, 1, 1}, {2, 9, 5, 4}, {3, 70, 33, 4}, {1, 300, 64, 3}}) {
            int b = s[0], t = s[1], c = s[2], k = s[3];
            for (boolean bias : new boolean[]{true, false}) {
                cs.add(new Check("conv1d b=" + b + " t=" + t + " c=" + c + " k=" + k + (bias ? " +bias" : ""), 1e-5, p -> {
                    Pair x = p.random(1, b * t, c), w = p.random(0.5, c, 1, k), bb = bias ? p.random(1, c) : null;
                    Pair o = p.poisoned(b * t, c), d = p.random(1, b * t, c), dx = p.random(1, b * t, c);
                    Pair dw = p.random(1, c, 1, k), db = bias ? p.random(1, c) : null;
                    both(p, be -> {
                        be.conv1dForward(sel(p, be, o), sel(p, be, x), sel(p, be, w), sel(p, be, bb), b, t);
                        be.conv1dBackward(sel(p, be, dx), sel(p, be, dw), sel(p, be, db), sel(p, be, d), sel(p, be, x),
                                sel(p, be, w), b, t);
                    });
                    return max(p.error(o), p.error(dx), p.error(dw), bias ? p.error(db) : 0);
                }));
            }
            cs.add(new Check("conv1d-step b=" + b + " c=" + c + " k=" + k, 1e-5, p -> {
                Pair st = p.random(1, b, c, k - 1), x = p.random(1, b, c), w = p.random(0.5, c, 1, k);
                Pair bb = p.random(1, c), o = p.poisoned(b, c);
                both(p, be -> {
                    for (int i = 0; i < 3; i++)
                        be.conv1dStep(sel(p, be, o), sel(p, be, st), sel(p, be, x), sel(p, be, w), sel(p, be, bb), b);
                });
                return Math.max(p.error(o), p.error(st));
            }));
        }
        record ScanShape(int b, int t, int d, int n, boolean withD, boolean withZ, boolean withBias, boolean softplus) {
        }
        for (ScanShape s : List.of(new ScanShape(1, 1, 1, 1, true, true, true, true),
                new ScanShape(2, 150, 40, 5, true, true, true, true),       // partial chunk, partial channel block
                new ScanShape(1, 64, 32, 16, false, false, false, false),
                new ScanShape(2, 220, 64, 16, true, true, true, true),      // the paper's training rows
                new ScanShape(1, 130, 33, 64, true, false, true, true),     // d_state 64
                new ScanShape(3, 17, 7, 3, false, true, false, true))) {
            int b = s.b(), t = s.t(), d = s.d(), n = s.n(), rows = b * t;
            String name = "scan b=" + b + " t=" + t + " d=" + d + " n=" + n + (s.withD() ? " D" : "") + (s.withZ() ? " z" : "")
                    + (s.withBias() ? " bias" : "") + (s.softplus() ? " softplus" : "");
            cs.add(new Check(name, 1e-4, p -> {
                Pair u = p.random(1, rows, d), a = p.uniform(-2, -0.1, d, n), bm = p.random(1, rows, n), cm = p.random(1, rows, n);
                Pair delta = s.softplus() ? p.random(1, rows, d) : p.uniform(0.05, 0.6, rows, d);
                Pair dS = s.withD() ? p.random(1, d) : null, z = s.withZ() ? p.random(1, rows, d) : null;
                Pair bias = s.withBias() ? p.random(0.5, d) : null;
                int chunks = p.refBackend().scanChunks(t);
                if (p.candBackend().scanChunks(t) != chunks)
                    throw new IllegalStateException("checkpoint intervals differ: " + p.refBackend().scanChunkLength()
                            + " vs " + p.candBackend().scanChunkLength());
                Pair o = p.poisoned(rows, d), ck = p.poisoned(b, chunks, d, n), dout = p.random(1, rows, d);
                Pair du = p.random(1, rows, d), dd = p.random(1, rows, d), dA = p.random(1, d, n), dB = p.random(1, rows, n);
                Pair dC = p.random(1, rows, n), dDs = s.withD() ? p.random(1, d) : null, dz = s.withZ() ? p.random(1, rows, d) : null;
                Pair dBias = s.withBias() ? p.random(1, d) : null;
                both(p, be -> {
                    be.scanForward(sel(p, be, o), sel(p, be, ck), sel(p, be, u), sel(p, be, delta), sel(p, be, a),
                            sel(p, be, bm), sel(p, be, cm), sel(p, be, dS), sel(p, be, z), sel(p, be, bias), s.softplus(), b, t);
                    be.scanBackward(sel(p, be, du), sel(p, be, dd), sel(p, be, dA), sel(p, be, dB), sel(p, be, dC),
                            sel(p, be, dDs), sel(p, be, dz), sel(p, be, dBias), sel(p, be, dout), sel(p, be, ck), sel(p, be, u),
                            sel(p, be, delta), sel(p, be, a), sel(p, be, bm), sel(p, be, cm), sel(p, be, dS), sel(p, be, z),
                            sel(p, be, bias), s.softplus(), b, t);
                });
                return max(p.error(o), p.error(ck), p.error(du), p.error(dd), p.error(dA), p.error(dB), p.error(dC),
                        dDs == null ? 0 : p.error(dDs), dz == null ? 0 : p.error(dz), dBias == null ? 0 : p.error(dBias));
            }));
            // the candidate's backward from the reference's checkpoints: the layouts must be the same
            cs.add(new Check("scan-backward-from-reference-checkpoints b=" + b + " t=" + t + " d=" + d + " n=" + n, 1e-4, p -> {
                Pair u = p.random(1, rows, d), a = p.uniform(-2, -0.1, d, n), bm = p.random(1, rows, n), cm = p.random(1, rows, n);
                Pair delta = p.random(1, rows, d), z = p.random(1, rows, d), dout = p.random(1, rows, d);
                int chunks = p.refBackend().scanChunks(t);
                parrot.backend.Tensor ckRef = p.refBackend().zeros(b, chunks, d, n), oRef = p.refBackend().zeros(rows, d);
                p.refBackend().scanForward(oRef, ckRef, u.ref(), delta.ref(), a.ref(), bm.ref(), cm.ref(), null, z.ref(), null,
                        true, b, t);
                Pair ck = p.of(p.refBackend().toDoubles(ckRef), b, chunks, d, n);
                Pair du = p.random(1, rows, d), dA = p.random(1, d, n), dB = p.random(1, rows, n);
                both(p, be -> be.scanBackward(sel(p, be, du), null, sel(p, be, dA), sel(p, be, dB), null, null, null, null,
                        sel(p, be, dout), sel(p, be, ck), sel(p, be, u), sel(p, be, delta), sel(p, be, a), sel(p, be, bm),
                        sel(p, be, cm), null, sel(p, be, z), null, true, b, t));
                return max(p.error(du), p.error(dA), p.error(dB));
            }));
            cs.add(new Check("scan-step b=" + b + " d=" + d + " n=" + n, 1e-5, p -> {
                Pair st = p.random(1, b, d, n), u = p.random(1, b, d), a = p.uniform(-2, -0.1, d, n);
                Pair delta = s.softplus() ? p.random(1, b, d) : p.uniform(0.05, 0.6, b, d);
                Pair bm = p.random(1, b, n), cm = p.random(1, b, n), dS = s.withD() ? p.random(1, d) : null;
                Pair z = s.withZ() ? p.random(1, b, d) : null, bias = s.withBias() ? p.random(0.5, d) : null;
                Pair o = p.poisoned(b, d);
                both(p, be -> {
                    for (int i = 0; i < 3; i++)
                        be.scanStep(sel(p, be, o), sel(p, be, st), sel(p, be, u), sel(p, be, delta), sel(p, be, a),
                                sel(p, be, bm), sel(p, be, cm), sel(p, be, dS), sel(p, be, z), sel(p, be, bias), s.softplus(), b);
                });
                return Math.max(p.error(o), p.error(st));
            }));
        }
        for (int[] s : new int[][]{{1, 1, 1}, {2, 5, 3}, {3, 17, 40}, {2, 30, 64}}) {
            int b = s[0], t = s[1], h = s[2], rows = b * t;
            for (boolean bias : new boolean[]{true, false}) {
                cs.add(new Check("lstm b=" + b + " t=" + t + " h=" + h + (bias ? " +bias" : ""), 1e-4, p -> {
                    Pair x = p.random(1, rows, 4 * h), whh = p.random(1 / Math.sqrt(h), 4 * h, h), bhh = bias ? p.random(0.5, 4 * h) : null;
                    Pair hh = p.poisoned(rows, h), cc = p.poisoned(rows, h), g = p.poisoned(rows, 4 * h);
                    Pair dh = p.random(1, rows, h), dx = p.random(1, rows, 4 * h), dw = p.random(1, 4 * h, h);
                    Pair db = bias ? p.random(1, 4 * h) : null;
                    both(p, be -> {
                        be.lstmForward(sel(p, be, hh), sel(p, be, cc), sel(p, be, g), sel(p, be, x), sel(p, be, whh),
                                sel(p, be, bhh), b, t);
                        be.lstmBackward(sel(p, be, dx), sel(p, be, dw), sel(p, be, db), sel(p, be, dh), sel(p, be, hh),
                                sel(p, be, cc), sel(p, be, g), sel(p, be, whh), b, t);
                    });
                    return max(p.error(hh), p.error(cc), p.error(g), p.error(dx), p.error(dw), bias ? p.error(db) : 0);
                }));
            }
            cs.add(new Check("lstm-step b=" + b + " h=" + h, 1e-5, p -> {
                Pair hh = p.random(0.5, b, h), cc = p.random(1, b, h), whh = p.random(1 / Math.sqrt(h), 4 * h, h);
                Pair bhh = p.random(0.5, 4 * h), x = p.random(1, b, 4 * h);
                both(p, be -> {
                    for (int i = 0; i < 3; i++)
                        be.lstmStep(sel(p, be, hh), sel(p, be, cc), sel(p, be, x), sel(p, be, whh), sel(p, be, bhh), b);
                });
                return Math.max(p.error(hh), p.error(cc));
            }));
        }
    }

    // ---- multi-tensor optimizer -------------------------------------------------------------------------------

    private static void multiTensor(List<Check> cs) {
        int[][] lists = {{3}, {1, 7, 8192, 8193, 20000, 5}};
        for (int[] sizes : lists) {
            String tag = sizes.length + " tensors";
            cs.add(new Check("adamw-multi-tensor " + tag, 1e-5, p -> {
                List<Pair> w = new ArrayList<>(), g = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
                double[] wd = new double[sizes.length];
                for (int i = 0; i < sizes.length; i++) {
                    w.add(p.random(1, sizes[i]));
                    g.add(p.random(1, sizes[i]));
                    m.add(p.random(0.1, sizes[i]));
                    v.add(p.uniform(0, 0.01, sizes[i]));
                    wd[i] = i % 2 == 0 ? 0.1 : 0;
                }
                AdamWParams hp = new AdamWParams(0.9, 0.95, 1e-8);
                both(p, be -> {
                    for (int step = 1; step <= 3; step++)
                        be.adamw(side(p, be, w), side(p, be, g), side(p, be, m), side(p, be, v), hp, wd, step, 1e-2);
                });
                double e = 0;
                for (int i = 0; i < sizes.length; i++) e = max(e, p.error(w.get(i)), p.error(m.get(i)), p.error(v.get(i)));
                return e;
            }));
            for (double maxNorm : new double[]{0, 1, 1e9}) {
                cs.add(new Check("clip-grad-norm " + tag + " max=" + maxNorm, 1e-6, p -> {
                    List<Pair> g = new ArrayList<>();
                    for (int size : sizes) g.add(p.random(1, size));
                    double r = pRef(p).clipGradNorm(side(p, pRef(p), g), maxNorm);
                    double c = pCand(p).clipGradNorm(side(p, pCand(p), g), maxNorm);
                    double e = Math.abs(r - c) / Math.max(r, 1e-12);
                    for (Pair x : g) e = max(e, p.error(x));
                    return e;
                }));
            }
        }
    }

    private static List<parrot.backend.Tensor> side(Pairs p, Backend be, List<Pair> xs) {
        List<parrot.backend.Tensor> out = new ArrayList<>();
        for (Pair x : xs) out.add(sel(p, be, x));
        return out;
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    static Backend pRef(Pairs p) {
        return p.refBackend();
    }

    static Backend pCand(Pairs p) {
        return p.candBackend();
    }

    /** Runs the same body on the reference and on the candidate. */
    static void both(Pairs p, java.util.function.Consumer<Backend> body) {
        body.accept(p.refBackend());
        body.accept(p.candBackend());
    }

    /** The side of a pair that lives on backend be. */
    static parrot.backend.Tensor sel(Pairs p, Backend be, Pair x) {
        if (x == null) return null;
        return be == p.refBackend() ? x.ref() : x.cand();
    }

    static double max(double... v) {
        double m = 0;
        for (double x : v) m = Double.isNaN(x) ? Double.POSITIVE_INFINITY : Math.max(m, x);
        return m;
    }
}
