package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java model of the CUDA scan's chunking (ScanChunking: 32-channel blocks, chunks of items·warps steps, segment
 * aggregates, carries, reverse pass, reduction orders) against the sequential reference (Scan, through the float64
 * CpuBackend with the same checkpoint interval): in float64 the two must agree to rounding, checkpoints included;
 * in float32 the model's error against the float64 reference must stay at the sequential float32 scan's level.
 */
class ScanChunkingTest {

    /** Inputs of one scan problem, in double. */
    private record Problem(int b, int t, int d, int n, boolean withD, boolean withZ, boolean withBias, boolean softplus,
                           double[] u, double[] delta, double[] a, double[] bm, double[] cm, double[] dSkip, double[] z,
                           double[] bias, double[] dout) {
        static Problem random(long seed, int b, int t, int d, int n, boolean withD, boolean withZ, boolean withBias,
                              boolean softplus) {
            Random r = new Random(seed);
            int rows = b * t;
            double[] delta = new double[rows * d];
            for (int i = 0; i < delta.length; i++)
                delta[i] = softplus ? r.nextGaussian() - 1 : 0.05 + 0.5 * r.nextDouble();
            double[] a = new double[d * n];
            for (int i = 0; i < a.length; i++) a[i] = -0.1 - 1.9 * r.nextDouble();
            double[] bias = new double[d];
            for (int i = 0; i < d; i++) bias[i] = softplus ? 0.5 * r.nextGaussian() : 0.3 * r.nextDouble();
            return new Problem(b, t, d, n, withD, withZ, withBias, softplus, gauss(r, rows * d), delta, a,
                    gauss(r, rows * n), gauss(r, rows * n), gauss(r, d), gauss(r, rows * d), bias, gauss(r, rows * d));
        }

        int chunks(int chunk) {
            return (t + chunk - 1) / chunk;
        }
    }

    private static double[] gauss(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
        return v;
    }

    private static float[] f(double[] v) {
        float[] o = new float[v.length];
        for (int i = 0; i < v.length; i++) o[i] = (float) v[i];
        return o;
    }

    private static double[] d(float[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) o[i] = v[i];
        return o;
    }

    /** Everything a scan produces: out, checkpoints, then du, dδ, dA, dB, dC, dD, dz, dbias (accumulated onto 0). */
    private record Result(double[] out, double[] ckpt, double[][] grads) {
    }

    /** The sequential reference, float64, through the Backend API. */
    private static Result reference(Problem p, int chunk) {
        Backend be = new parrot.backend.cpu.f64.CpuBackend(chunk);
        int rows = p.b * p.t;
        Tensor u = up(be, p.u, rows, p.d), delta = up(be, p.delta, rows, p.d), a = up(be, p.a, p.d, p.n);
        Tensor bm = up(be, p.bm, rows, p.n), cm = up(be, p.cm, rows, p.n), dout = up(be, p.dout, rows, p.d);
        Tensor dS = p.withD ? up(be, p.dSkip, p.d) : null, z = p.withZ ? up(be, p.z, rows, p.d) : null;
        Tensor bias = p.withBias ? up(be, p.bias, p.d) : null;
        Tensor out = be.zeros(rows, p.d), ckpt = be.zeros(p.b, be.scanChunks(p.t), p.d, p.n);
        be.scanForward(out, ckpt, u, delta, a, bm, cm, dS, z, bias, p.softplus, p.b, p.t);
        Tensor du = be.zeros(rows, p.d), dd = be.zeros(rows, p.d), dA = be.zeros(p.d, p.n), dB = be.zeros(rows, p.n);
        Tensor dC = be.zeros(rows, p.n), dD = p.withD ? be.zeros(p.d) : null, dz = p.withZ ? be.zeros(rows, p.d) : null;
        Tensor dBias = p.withBias ? be.zeros(p.d) : null;
        be.scanBackward(du, dd, dA, dB, dC, dD, dz, dBias, dout, ckpt, u, delta, a, bm, cm, dS, z, bias, p.softplus,
                p.b, p.t);
        return new Result(be.toDoubles(out), be.toDoubles(ckpt), new double[][]{be.toDoubles(du), be.toDoubles(dd),
                be.toDoubles(dA), be.toDoubles(dB), be.toDoubles(dC), dD == null ? new double[0] : be.toDoubles(dD),
                dz == null ? new double[0] : be.toDoubles(dz), dBias == null ? new double[0] : be.toDoubles(dBias)});
    }

    private static Tensor up(Backend be, double[] v, int... shape) {
        Tensor t = be.zeros(shape);
        be.upload(t, v);
        return t;
    }

    /** The model in float64 (the generated twin). */
    private static Result model64(Problem p, int items, int warps) {
        int rows = p.b * p.t, nc = p.chunks(items * warps);
        double[] out = new double[rows * p.d], ckpt = new double[p.b * nc * p.d * p.n];
        parrot.backend.cpu.f64.ScanChunking.forward(out, ckpt, p.u, p.delta, p.a, p.bm, p.cm, p.withD ? p.dSkip : null,
                p.withZ ? p.z : null, p.withBias ? p.bias : null, p.softplus, p.b, p.t, p.d, p.n, items, warps);
        double[][] g = grads64(p, rows);
        parrot.backend.cpu.f64.ScanChunking.backward(g[0], g[1], g[2], g[3], g[4], p.withD ? g[5] : null,
                p.withZ ? g[6] : null, p.withBias ? g[7] : null, p.dout, ckpt, p.u, p.delta, p.a, p.bm, p.cm,
                p.withD ? p.dSkip : null, p.withZ ? p.z : null, p.withBias ? p.bias : null, p.softplus, p.b, p.t, p.d,
                p.n, items, warps);
        return new Result(out, ckpt, g);
    }

    private static double[][] grads64(Problem p, int rows) {
        return new double[][]{new double[rows * p.d], new double[rows * p.d], new double[p.d * p.n],
                new double[rows * p.n], new double[rows * p.n], new double[p.withD ? p.d : 0],
                new double[p.withZ ? rows * p.d : 0], new double[p.withBias ? p.d : 0]};
    }

    /** The model in float32, on float32-rounded inputs; ckptIn, when given, replaces its own checkpoints. */
    private static Result model32(Problem p, int items, int warps, double[] ckptIn) {
        int rows = p.b * p.t, nc = p.chunks(items * warps);
        float[] u = f(p.u), delta = f(p.delta), a = f(p.a), bm = f(p.bm), cm = f(p.cm), dS = p.withD ? f(p.dSkip) : null;
        float[] z = p.withZ ? f(p.z) : null, bias = p.withBias ? f(p.bias) : null;
        float[] out = new float[rows * p.d], ckpt = new float[p.b * nc * p.d * p.n];
        ScanChunking.forward(out, ckpt, u, delta, a, bm, cm, dS, z, bias, p.softplus, p.b, p.t, p.d, p.n, items, warps);
        double[][] shapes = grads64(p, rows);
        float[][] g = new float[8][];
        for (int i = 0; i < 8; i++) g[i] = new float[shapes[i].length];
        ScanChunking.backward(g[0], g[1], g[2], g[3], g[4], dS == null ? null : g[5], z == null ? null : g[6],
                bias == null ? null : g[7], f(p.dout), ckptIn == null ? ckpt : f(ckptIn), u, delta, a, bm, cm, dS, z,
                bias, p.softplus, p.b, p.t, p.d, p.n, items, warps);
        double[][] gd = new double[8][];
        for (int i = 0; i < 8; i++) gd[i] = d(g[i]);
        return new Result(d(out), d(ckpt), gd);
    }

    /** The sequential float32 scan (CpuBackend), for the error level the model must match. */
    private static Result sequential32(Problem p, int chunk) {
        Backend be = new CpuBackend(chunk);
        int rows = p.b * p.t;
        Tensor u = up(be, p.u, rows, p.d), delta = up(be, p.delta, rows, p.d), a = up(be, p.a, p.d, p.n);
        Tensor bm = up(be, p.bm, rows, p.n), cm = up(be, p.cm, rows, p.n), dout = up(be, p.dout, rows, p.d);
        Tensor dS = p.withD ? up(be, p.dSkip, p.d) : null, z = p.withZ ? up(be, p.z, rows, p.d) : null;
        Tensor bias = p.withBias ? up(be, p.bias, p.d) : null;
        Tensor out = be.zeros(rows, p.d), ckpt = be.zeros(p.b, be.scanChunks(p.t), p.d, p.n);
        be.scanForward(out, ckpt, u, delta, a, bm, cm, dS, z, bias, p.softplus, p.b, p.t);
        Tensor du = be.zeros(rows, p.d), dd = be.zeros(rows, p.d), dA = be.zeros(p.d, p.n), dB = be.zeros(rows, p.n);
        Tensor dC = be.zeros(rows, p.n), dD = p.withD ? be.zeros(p.d) : null, dz = p.withZ ? be.zeros(rows, p.d) : null;
        Tensor dBias = p.withBias ? be.zeros(p.d) : null;
        be.scanBackward(du, dd, dA, dB, dC, dD, dz, dBias, dout, ckpt, u, delta, a, bm, cm, dS, z, bias, p.softplus,
                p.b, p.t);
        return new Result(be.toDoubles(out), be.toDoubles(ckpt), new double[][]{be.toDoubles(du), be.toDoubles(dd),
                be.toDoubles(dA), be.toDoubles(dB), be.toDoubles(dC), dD == null ? new double[0] : be.toDoubles(dD),
                dz == null ? new double[0] : be.toDoubles(dz), dBias == null ? new double[0] : be.toDoubles(dBias)});
    }

    private static final String[] NAMES = {"du", "ddelta", "dA", "dB", "dC", "dD", "dz", "dbias"};

    /** max |x − ref| / max(max |ref|, 1e-12). */
    private static double rel(double[] ref, double[] x) {
        assertEquals(ref.length, x.length);
        double scale = 1e-12, worst = 0;
        for (double v : ref) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(x[i] - ref[i]));
        return worst / scale;
    }

    /** Worst relative error over out, checkpoints and every gradient, with where it was. */
    private static double[] worst(Result ref, Result x, StringBuilder where) {
        double w = rel(ref.out, x.out);
        where.setLength(0);
        where.append("out");
        double c = rel(ref.ckpt, x.ckpt);
        if (c > w) {
            w = c;
            where.setLength(0);
            where.append("checkpoints");
        }
        for (int i = 0; i < NAMES.length; i++) {
            double e = rel(ref.grads[i], x.grads[i]);
            if (e > w) {
                w = e;
                where.setLength(0);
                where.append(NAMES[i]);
            }
        }
        return new double[]{w};
    }

    @ParameterizedTest(name = "b={0} t={1} d={2} n={3} D={4} z={5} bias={6} softplus={7}")
    @CsvSource({
            "1, 64, 32, 4, true, true, true, true",       // one chunk, one full block
            "2, 150, 40, 5, true, true, true, true",      // partial last chunk, partial last block
            "1, 130, 7, 16, false, false, false, false",
            "1, 1, 1, 1, true, false, true, true",
            "1, 70, 33, 64, true, true, false, true",      // d_state 64, the kernel's limit
            "3, 200, 65, 3, false, true, true, false",
    })
    void modelEqualsTheSequentialScan(int b, int t, int d, int n, boolean withD, boolean withZ, boolean withBias,
                                      boolean softplus) {
        Problem p = Problem.random(31L * t + d, b, t, d, n, withD, withZ, withBias, softplus);
        int items = ScanChunking.ITEMS, warps = ScanChunking.WARPS, chunk = items * warps;
        assertEquals(64, chunk, "the kernel's chunk is the Backend's default checkpoint interval");
        Result ref = reference(p, chunk);
        StringBuilder where = new StringBuilder();
        double e64 = worst(ref, model64(p, items, warps), where)[0];
        assertTrue(e64 < 1e-11, "float64 model vs sequential: " + e64 + " at " + where);
        double e32 = worst(ref, model32(p, items, warps, null), where)[0];
        String w32 = where.toString();
        double seq32 = worst(ref, sequential32(p, chunk), where)[0];
        // the CPU backend's own float32 scan (SIMD channel slices and scalar tails) against float64
        assertTrue(seq32 < 1e-4, "sequential float32 scan error " + seq32 + " at " + where);
        assertTrue(e32 < 1e-4 && e32 < 20 * Math.max(seq32, 1e-7),
                "float32 model error " + e32 + " at " + w32 + " vs sequential float32 " + seq32 + " at " + where);
        // the backward from the sequential reference's checkpoints (the CPU layout) gives the same gradients
        double eCross = worst(ref, model32(p, items, warps, ref.ckpt), where)[0];
        assertTrue(eCross < 1e-4, "float32 model backward from the reference's checkpoints: " + eCross + " at " + where);
    }

    /** Other decompositions (segment length, segments per chunk) exercise the same code paths at small sizes. */
    @ParameterizedTest(name = "items={0} warps={1}")
    @CsvSource({"1, 1", "3, 2", "2, 5", "8, 1", "1, 8"})
    void otherChunkings(int items, int warps) {
        Problem p = Problem.random(items * 10L + warps, 2, 23, 35, 3, true, true, true, true);
        Result ref = reference(p, items * warps);
        StringBuilder where = new StringBuilder();
        double e64 = worst(ref, model64(p, items, warps), where)[0];
        assertTrue(e64 < 1e-11, "float64 model vs sequential: " + e64 + " at " + where);
    }

    @Test
    void laneSumIsTheButterflyTree() {
        float[] v = new float[ScanChunking.LANES];
        for (int i = 0; i < v.length; i++) v[i] = i + 1;
        assertEquals(528f, ScanChunking.laneSum(v));
        // the tree pairs lanes 16 apart first, so 1e8 and −1e8 cancel before the 1 is added (left to right loses it)
        float[] w = new float[ScanChunking.LANES];
        w[0] = 1e8f;
        w[16] = -1e8f;
        w[1] = 1f;
        assertEquals(1f, ScanChunking.laneSum(w));
    }
}
