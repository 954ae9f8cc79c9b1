package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static parrot.Fixtures.assertClose;
import static parrot.backend.cpu.GradCheck.check;
import static parrot.backend.cpu.GradCheck.tensor;

/**
 * float64 finite-difference checks of the Mamba and LSTM ops (selective scan in every optional-input
 * combination and across chunk boundaries, causal conv1d, SiLU, −exp, RMSNorm, column copies, the LSTM
 * recurrence), and their decoding steps against the full-sequence forward.
 */
class RecurrentOpGradientTest {
    private final Random rnd = new Random(7);
    private static final double TOL = 1e-7;

    private static Tensor positive(Backend be, Random rnd, double lo, double hi, int... shape) {
        Tensor t = be.zeros(shape);
        double[] v = new double[t.length()];
        for (int i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * rnd.nextDouble();
        be.upload(t, v);
        return t;
    }

    /** Every combination of the scan's optional inputs, at a chunk length that splits the sequence or not. */
    @ParameterizedTest(name = "z={0} D={1} bias={2} softplus={3} chunk={4} channels={5}")
    @CsvSource({
            "true, true, true, true, 3, 3",
            "true, true, true, true, 64, 3",
            "false, false, false, false, 3, 3",
            "true, false, false, false, 2, 3",
            "false, true, false, false, 4, 3",
            "false, false, true, false, 3, 3",
            "false, false, false, true, 3, 3",
            "false, true, true, true, 5, 3",
            "true, true, true, true, 3, 18",
    })
    void scan(boolean withZ, boolean withD, boolean withBias, boolean softplus, int chunk, int d) {
        Backend be = new parrot.backend.cpu.f64.CpuBackend(chunk);
        int b = 2, t = 7, n = 4, rows = b * t;
        Tensor u = tensor(be, rnd, 1, rows, d);
        // keep δ positive without softplus, as Mamba's always is
        Tensor delta = softplus ? tensor(be, rnd, 1, rows, d) : positive(be, rnd, 0.1, 1.0, rows, d);
        Tensor a = tensor(be, rnd, 0.5, d, n);
        be.upload(a, java.util.Arrays.stream(be.toDoubles(a)).map(x -> -0.2 - Math.abs(x)).toArray());
        Tensor bm = tensor(be, rnd, 1, rows, n), cm = tensor(be, rnd, 1, rows, n);
        Tensor dSkip = withD ? tensor(be, rnd, 1, d) : null, z = withZ ? tensor(be, rnd, 1, rows, d) : null;
        Tensor bias = withBias ? (softplus ? tensor(be, rnd, 0.5, d) : positive(be, rnd, 0.0, 0.3, d)) : null;
        Tensor out = be.zeros(rows, d), ckpt = be.zeros(b, be.scanChunks(t), d, n);
        List<Tensor> in = new ArrayList<>(List.of(u, delta, a, bm, cm)), gr = new ArrayList<>();
        for (Tensor x : in) gr.add(be.zeros(x.shape()));
        Tensor gD = null, gZ = null, gBias = null;
        if (withD) { in.add(dSkip); gr.add(gD = be.zeros(d)); }
        if (withZ) { in.add(z); gr.add(gZ = be.zeros(rows, d)); }
        if (withBias) { in.add(bias); gr.add(gBias = be.zeros(d)); }
        Tensor fD = gD, fZ = gZ, fBias = gBias;
        check("scan", be, in.toArray(Tensor[]::new), gr.toArray(Tensor[]::new), out,
                () -> be.scanForward(out, ckpt, u, delta, a, bm, cm, dSkip, z, bias, softplus, b, t),
                g -> be.scanBackward(gr.get(0), gr.get(1), gr.get(2), gr.get(3), gr.get(4), fD, fZ, fBias, g, ckpt,
                        u, delta, a, bm, cm, dSkip, z, bias, softplus, b, t), TOL);
    }

    /** The chunked scan saves ceil(L/chunk) states per channel and gives the same result for any chunk length. */
    @Test
    void chunkLengthDoesNotChangeTheResult() {
        int b = 2, t = 23, d = 5, n = 3, rows = b * t;
        double[][] outs = new double[3][];
        int k = 0;
        for (int chunk : new int[]{1, 4, 64}) {
            Backend be = new parrot.backend.cpu.f64.CpuBackend(chunk);
            Random r = new Random(3);
            Tensor u = tensor(be, r, 1, rows, d), delta = tensor(be, r, 1, rows, d), a = tensor(be, r, 1, d, n);
            be.negExpForward(a, a);
            Tensor bm = tensor(be, r, 1, rows, n), cm = tensor(be, r, 1, rows, n), dS = tensor(be, r, 1, d);
            Tensor z = tensor(be, r, 1, rows, d), bias = tensor(be, r, 1, d), out = be.zeros(rows, d);
            Tensor ckpt = be.zeros(b, be.scanChunks(t), d, n);
            assertEquals(b * ((t + chunk - 1) / chunk) * d * n, ckpt.length());
            be.scanForward(out, ckpt, u, delta, a, bm, cm, dS, z, bias, true, b, t);
            Tensor du = be.zeros(rows, d), dA = be.zeros(d, n), dout = tensor(be, r, 1, rows, d);
            be.scanBackward(du, null, dA, null, null, null, null, null, dout, ckpt, u, delta, a, bm, cm, dS, z, bias,
                    true, b, t);
            double[] all = new double[rows * d + d * n];
            System.arraycopy(be.toDoubles(du), 0, all, 0, rows * d);
            System.arraycopy(be.toDoubles(dA), 0, all, rows * d, d * n);
            outs[k++] = all;
        }
        assertClose("chunk 4 vs 1", outs[0], outs[1], 1e-12, 1e-6);
        assertClose("chunk 64 vs 1", outs[0], outs[2], 1e-12, 1e-6);
    }

    @Test
    void savedStatesAreOnePerChunk() {
        Backend be = new CpuBackend();
        assertEquals(64, be.scanChunkLength());
        assertEquals(16, be.scanChunks(1000));
        assertEquals(1, be.scanChunks(64));
        assertEquals(2, be.scanChunks(65));
    }

    @ParameterizedTest
    @CsvSource({"4, true", "1, true", "3, false", "2, true"})
    void conv1d(int k, boolean withBias) {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        int b = 2, t = 6, c = 5;
        Tensor in = tensor(be, rnd, 1, b * t, c), w = tensor(be, rnd, 1, c, k), bias = withBias ? tensor(be, rnd, 1, c) : null;
        Tensor din = be.zeros(b * t, c), dw = be.zeros(c, k), db = be.zeros(c), out = be.zeros(b * t, c);
        Tensor[] ins = withBias ? new Tensor[]{in, w, bias} : new Tensor[]{in, w};
        Tensor[] grads = withBias ? new Tensor[]{din, dw, db} : new Tensor[]{din, dw};
        check("conv1d", be, ins, grads, out, () -> be.conv1dForward(out, in, w, bias, b, t),
                g -> be.conv1dBackward(din, dw, withBias ? db : null, g, in, w, b, t), TOL);
    }

    @Test
    void silu() {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        Tensor in = tensor(be, rnd, 3, 40), din = be.zeros(40), out = be.zeros(40);
        check("silu", be, new Tensor[]{in}, new Tensor[]{din}, out, () -> be.siluForward(out, in),
                d -> be.siluBackward(din, d, in), TOL);
    }

    @Test
    void negExp() {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        Tensor in = tensor(be, rnd, 1, 12), din = be.zeros(12), out = be.zeros(12);
        check("negExp", be, new Tensor[]{in}, new Tensor[]{din}, out, () -> be.negExpForward(out, in),
                d -> be.negExpBackward(din, d, out), TOL);
    }

    @Test
    void rmsNorm() {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        Tensor in = tensor(be, rnd, 1, 4, 6), w = tensor(be, rnd, 1, 6), din = be.zeros(4, 6), dw = be.zeros(6);
        Tensor out = be.zeros(4, 6), rstd = be.zeros(4);
        check("rmsnorm", be, new Tensor[]{in, w}, new Tensor[]{din, dw}, out,
                () -> be.rmsNormForward(out, rstd, in, w, 1e-5), d -> be.rmsNormBackward(din, dw, d, in, w, rstd), TOL);
    }

    @Test
    void copyColumns() {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        Tensor src = tensor(be, rnd, 1, 3, 7), dsrc = be.zeros(3, 7), out = be.zeros(3, 4);
        check("copyColumns", be, new Tensor[]{src}, new Tensor[]{dsrc}, out,
                () -> be.copyColumns(out, 1, src, 2, 3, false),
                d -> be.copyColumns(dsrc, 2, d, 1, 3, true), TOL);
        double[] o = be.toDoubles(out), s = be.toDoubles(src);
        for (int r = 0; r < 3; r++) {
            assertEquals(0, o[r * 4]);
            for (int j = 0; j < 3; j++) assertEquals(s[r * 7 + 2 + j], o[r * 4 + 1 + j]);
        }
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void lstm(boolean withBias) {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        int b = 2, t = 5, hid = 3;
        Tensor x = tensor(be, rnd, 1, b * t, 4 * hid), whh = tensor(be, rnd, 0.7, 4 * hid, hid);
        Tensor bhh = withBias ? tensor(be, rnd, 0.5, 4 * hid) : null;
        Tensor dx = be.zeros(b * t, 4 * hid), dw = be.zeros(4 * hid, hid), db = be.zeros(4 * hid);
        Tensor h = be.zeros(b * t, hid), c = be.zeros(b * t, hid), gates = be.zeros(b * t, 4 * hid);
        // the op's contract: the loss reaches the layer through every h_t (c_t only through later h)
        Tensor[] ins = withBias ? new Tensor[]{x, whh, bhh} : new Tensor[]{x, whh};
        Tensor[] grads = withBias ? new Tensor[]{dx, dw, db} : new Tensor[]{dx, dw};
        check("lstm", be, ins, grads, h, () -> be.lstmForward(h, c, gates, x, whh, bhh, b, t),
                d -> be.lstmBackward(dx, dw, withBias ? db : null, d, h, c, gates, whh, b, t), TOL);
    }

    /** Decoding steps, fed one token at a time, give the full forward's outputs. */
    @Test
    void stepsEqualFullForward() {
        Backend be = new parrot.backend.cpu.f64.CpuBackend(4);
        int b = 3, t = 9, d = 5, n = 4, k = 4, hid = 3;
        Tensor u = tensor(be, rnd, 1, b * t, d), delta = tensor(be, rnd, 1, b * t, d), a = tensor(be, rnd, 1, d, n);
        be.negExpForward(a, a);
        Tensor bm = tensor(be, rnd, 1, b * t, n), cm = tensor(be, rnd, 1, b * t, n), dS = tensor(be, rnd, 1, d);
        Tensor z = tensor(be, rnd, 1, b * t, d), bias = tensor(be, rnd, 1, d), w = tensor(be, rnd, 1, d, k);
        Tensor convB = tensor(be, rnd, 1, d), xp = tensor(be, rnd, 1, b * t, 4 * hid), whh = tensor(be, rnd, 1, 4 * hid, hid);
        Tensor bhh = tensor(be, rnd, 1, 4 * hid);

        Tensor scanOut = be.zeros(b * t, d), convOut = be.zeros(b * t, d), ckpt = be.zeros(b, be.scanChunks(t), d, n);
        Tensor h = be.zeros(b * t, hid), c = be.zeros(b * t, hid), gates = be.zeros(b * t, 4 * hid);
        be.scanForward(scanOut, ckpt, u, delta, a, bm, cm, dS, z, bias, true, b, t);
        be.conv1dForward(convOut, u, w, convB, b, t);
        be.lstmForward(h, c, gates, xp, whh, bhh, b, t);

        Tensor ssm = be.zeros(b, d, n), win = be.zeros(b, d, k - 1), hs = be.zeros(b, hid), cs = be.zeros(b, hid);
        Tensor su = be.zeros(b, d), sd = be.zeros(b, d), sz = be.zeros(b, d), sb = be.zeros(b, n), sc = be.zeros(b, n);
        Tensor sx = be.zeros(b, 4 * hid), so = be.zeros(b, d), co = be.zeros(b, d);
        for (int pos = 0; pos < t; pos++) {
            be.upload(su, rowsAt(be, u, b, t, pos));
            be.upload(sd, rowsAt(be, delta, b, t, pos));
            be.upload(sz, rowsAt(be, z, b, t, pos));
            be.upload(sb, rowsAt(be, bm, b, t, pos));
            be.upload(sc, rowsAt(be, cm, b, t, pos));
            be.upload(sx, rowsAt(be, xp, b, t, pos));
            be.scanStep(so, ssm, su, sd, a, sb, sc, dS, sz, bias, true, b);
            be.conv1dStep(co, win, su, w, convB, b);
            be.lstmStep(hs, cs, sx, whh, bhh, b);
            assertClose("scan step " + pos, rowsAt(be, scanOut, b, t, pos), be.toDoubles(so), 1e-12, 1e-6);
            assertClose("conv step " + pos, rowsAt(be, convOut, b, t, pos), be.toDoubles(co), 1e-12, 1e-6);
            assertClose("lstm step h " + pos, rowsAt(be, h, b, t, pos), be.toDoubles(hs), 1e-12, 1e-6);
            assertClose("lstm step c " + pos, rowsAt(be, c, b, t, pos), be.toDoubles(cs), 1e-12, 1e-6);
        }
    }

    private static double[] rowsAt(Backend be, Tensor x, int b, int t, int pos) {
        double[] all = be.toDoubles(x);
        int w = all.length / (b * t);
        double[] out = new double[b * w];
        for (int s = 0; s < b; s++) System.arraycopy(all, (s * t + pos) * w, out, s * w, w);
        return out;
    }
}
