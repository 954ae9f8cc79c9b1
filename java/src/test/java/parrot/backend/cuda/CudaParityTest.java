package parrot.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import parrot.backend.AdamWParams;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.backend.Tensor;
import parrot.backend.cpu.CpuBackend;

/**
 * Every op of {@link CudaBackend} against the float32 CPU reference on fresh random inputs, several shapes
 * including odd ones. Outputs that an op overwrites are poisoned with NaN first (on both sides); gradients that an
 * op accumulates into start from the same random values on both sides, so accumulation is checked too.
 * Errors are relative to the largest magnitude of the reference. Without a CUDA device: SKIPPED.
 */
class CudaParityTest {
    private static CudaBackend gpu;
    private static CudaBackend gpuBuiltin;
    private static Backend cpu;
    private final Random rnd = new Random(20240205);

    private static String skipReason;

    /**
     * The emulated CUDA device (build/emu-device, what make test runs this on without a GPU) executes every CUDA
     * thread on the CPU, ~10^7 thread-instructions a second: there, only the shapes up to a size budget run (see
     * {@link #fit}); on a GPU all of them.
     */
    private static boolean emulated;

    @BeforeAll
    static void setUp() {
        if (!DeviceSelector.cudaUsable()) {   // a GPU, or the emulated CUDA device (make test puts it on the path)
            skipReason = "no CUDA device: SKIPPED (" + DeviceSelector.choose("cuda").reason() + ")";
            return;
        }
        emulated = DeviceSelector.cudaEmulated();
        gpu = new CudaBackend(0, GemmMode.AUTO);
        gpuBuiltin = new CudaBackend(0, GemmMode.BUILTIN);
        cpu = new CpuBackend();
        System.out.println("parity: " + gpu.name() + ", GEMM " + gpu.gemmDescription() + " and builtin, vs "
                + cpu.name());
    }

    /** Per test, so that each one is reported SKIPPED (an assumption in @BeforeAll reports nothing). */
    @BeforeEach
    void requireGpu() {
        assumeTrue(gpu != null, skipReason);
    }

    @AfterAll
    static void tearDown() {
        if (gpu != null) gpu.close();
        if (gpuBuiltin != null) gpuBuiltin.close();
        BY_PRECISION.values().forEach(CudaBackend::close);
        BY_PRECISION.clear();
        if (cpu64 != null) cpu64.close();
        if (cpu != null) cpu.close();
    }

    // ---- pairs of tensors: the same contents on the CPU and on the GPU ----------------------------------------

    private record Pair(Tensor c, Tensor g) {
    }

    private float[] randn(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    private Pair same(CudaBackend g, float[] data, int... shape) {
        Tensor c = cpu.zeros(shape), t = g.zeros(shape);
        cpu.upload(c, data);
        g.upload(t, data);
        return new Pair(c, t);
    }

    private Pair random(CudaBackend g, double scale, int... shape) {
        return same(g, randn(size(shape), scale), shape);
    }

    private Pair random(int... shape) {
        return random(gpu, 1.0, shape);
    }

    private Pair ints(CudaBackend g, int[] data, int... shape) {
        Tensor c = cpu.zerosInt(shape), t = g.zerosInt(shape);
        cpu.uploadInts(c, data);
        g.uploadInts(t, data);
        return new Pair(c, t);
    }

    /** NaN-filled on both sides: an op that skips an element it should write is caught. */
    private Pair poisoned(CudaBackend g, int... shape) {
        float[] nan = new float[size(shape)];
        Arrays.fill(nan, Float.NaN);
        Tensor c = cpu.zeros(shape), t = g.zeros(shape);
        cpu.upload(c, nan);
        g.fill(t, Float.NaN);
        return new Pair(c, t);
    }

    private Pair poisoned(int... shape) {
        return poisoned(gpu, shape);
    }

    private static void release(CudaBackend g, Pair... ps) {
        for (Pair p : ps) {
            if (p == null) continue;
            cpu.release(p.c);
            g.release(p.g);
        }
    }

    private static void assertClose(String what, float[] ref, float[] got, double tol) {
        assertClose(what, ref, got, tol, 1e-12);
    }

    /**
     * lse's error matters absolutely (exp of it is the relative error of every probability), so it is compared
     * relative to max(max |ref|, 1): a row of one key whose score q·k nearly cancels to 0.1 is otherwise held to a
     * relative bound its bf16-rounded operands cannot meet (seen on the emulated device's random draws).
     */
    private static void assertCloseLse(String what, float[] ref, float[] got, double tol) {
        assertClose(what, ref, got, tol, 1.0);
    }

    private static void assertClose(String what, float[] ref, float[] got, double tol, double floor) {
        assertEquals(ref.length, got.length, what + ": length");
        double maxRef = floor, maxErr = 0;
        int worst = -1;
        for (float v : ref) if (Float.isFinite(v)) maxRef = Math.max(maxRef, Math.abs(v));
        for (int i = 0; i < ref.length; i++) {
            if (Float.isNaN(ref[i])) {
                if (!Float.isNaN(got[i])) fail(what + ": [" + i + "] reference is NaN, GPU " + got[i]);
                continue;
            }
            if (!Float.isFinite(got[i])) fail(what + ": [" + i + "] GPU " + got[i] + ", reference " + ref[i]);
            double e = Math.abs((double) got[i] - ref[i]);
            if (e > maxErr) {
                maxErr = e;
                worst = i;
            }
        }
        double rel = maxErr / maxRef;
        if (rel > tol)
            fail(String.format("%s: relative error %.3g > %.1g at [%d]: GPU %s, reference %s (max |ref| %.4g)", what,
                    rel, tol, worst, got[worst], ref[worst], maxRef));
    }

    private static void assertClose(String what, Pair p, double tol) {
        assertClose(what, cpu.toFloats(p.c), gpuOf(p).toFloats(p.g), tol);
    }

    private static Backend gpuOf(Pair p) {
        return ((CudaTensor) p.g).owner();
    }

    private static void assertScalar(String what, double ref, double got, double tol) {
        double rel = Math.abs(got - ref) / Math.max(Math.abs(ref), 1e-12);
        assertTrue(rel <= tol, what + ": GPU " + got + ", reference " + ref + ", relative error " + rel);
    }

    /** The shapes whose product of dimensions is at most {@code budget} on the emulated device; all on a GPU. */
    private static int[][] fit(long budget, int[]... shapes) {
        if (!emulated) return shapes;
        return Arrays.stream(shapes).filter(s -> Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b) <= budget)
                .toArray(int[][]::new);
    }

    private static int[] fitSizes(long budget, int... sizes) {
        return emulated ? Arrays.stream(sizes).filter(n -> n <= budget).toArray() : sizes;
    }

    // ---- elementwise ---------------------------------------------------------------------------------------

    private static final int[] SIZES = {1, 7, 256, 1000, 4099, 70001};

    @Test
    void addAccumulateScale() {
        for (int n : SIZES) {
            Pair a = random(n), b = random(n), out = poisoned(n);
            cpu.add(out.c, a.c, b.c);
            gpu.add(out.g, a.g, b.g);
            assertClose("add n=" + n, out, 1e-6);
            cpu.add(a.c, a.c, b.c);                 // aliased output
            gpu.add(a.g, a.g, b.g);
            assertClose("add aliased n=" + n, a, 1e-6);
            cpu.accumulate(b.c, out.c);
            gpu.accumulate(b.g, out.g);
            assertClose("accumulate n=" + n, b, 1e-6);
            cpu.scale(b.c, -0.37);
            gpu.scale(b.g, -0.37);
            assertClose("scale n=" + n, b, 1e-6);
            release(gpu, a, b, out);
        }
    }

    @Test
    void sumSquaresIsCloseAndBitwiseReproducible() {
        for (int n : fitSizes(300_000, 1, 7, 256, 257, 4099, 262145, 3_000_001)) {
            Pair t = random(n);
            double ref = cpu.sumSquares(t.c);
            double a = gpu.sumSquares(t.g), b = gpu.sumSquares(t.g);
            assertScalar("sumSquares n=" + n, ref, a, 1e-5);
            assertEquals(Double.doubleToRawLongBits(a), Double.doubleToRawLongBits(b), "sumSquares not reproducible");
            release(gpu, t);
        }
    }

    @Test
    void gelu() {
        for (int n : SIZES) {
            Pair in = random(gpu, 3.0, n), out = poisoned(n), dout = random(n), din = random(n);
            cpu.geluForward(out.c, in.c);
            gpu.geluForward(out.g, in.g);
            assertClose("gelu forward n=" + n, out, 1e-5);
            cpu.geluBackward(din.c, dout.c, in.c);
            gpu.geluBackward(din.g, dout.g, in.g);
            assertClose("gelu backward (accumulating) n=" + n, din, 1e-5);
            release(gpu, in, out, dout, din);
        }
    }

    // ---- layers ----------------------------------------------------------------------------------------------

    @Test
    void embedding() {
        int[][] shapes = fit(300_000, new int[][] {{1, 1, 1}, {7, 5, 3}, {130, 30, 64}, {1761, 30, 67},
                {333, 1000, 129}});  // N, V, C
        for (int[] s : shapes) {
            int n = s[0], v = s[1], c = s[2];
            int[] tok = new int[n];
            for (int i = 0; i < n; i++) tok[i] = i % 5 == 0 ? v - 1 : rnd.nextInt(v);  // repeats on purpose
            Pair tokens = ints(gpu, tok, n), table = random(v, c), out = poisoned(n, c);
            cpu.embeddingForward(out.c, tokens.c, table.c);
            gpu.embeddingForward(out.g, tokens.g, table.g);
            assertClose("embedding forward " + Arrays.toString(s), out, 0);
            float[] init = randn(v * c, 1.0);
            Pair dout = random(n, c), dtable = same(gpu, init, v, c);
            cpu.embeddingBackward(dtable.c, dout.c, tokens.c);
            gpu.embeddingBackward(dtable.g, dout.g, tokens.g);
            assertClose("embedding backward (accumulating) " + Arrays.toString(s), dtable, 1e-5);
            float[] first = gpu.toFloats(dtable.g);
            gpu.upload(dtable.g, init);
            gpu.embeddingBackward(dtable.g, dout.g, tokens.g);
            assertArrayEquals(first, gpu.toFloats(dtable.g), "embedding backward not bitwise reproducible");
            release(gpu, tokens, table, out, dout, dtable);
        }
    }

    @Test
    void linearCublasAndBuiltin() {
        int[][] shapes = fit(1_200_000, new int[][] {{1, 1, 1}, {7, 5, 3}, {33, 64, 65}, {130, 67, 129},
                {1760, 256, 1024}, {64, 1024, 64}});
        for (CudaBackend g : new CudaBackend[] {gpu, gpuBuiltin}) {
            for (int[] s : shapes) {
                int n = s[0], in = s[1], o = s[2];
                String tag = g.gemmDescription().split(" ")[0] + " N,I,O=" + Arrays.toString(s);
                Pair x = random(g, 1.0, n, in), w = random(g, 0.05, o, in), b = random(g, 1.0, o);
                Pair out = poisoned(g, n, o);
                cpu.linearForward(out.c, x.c, w.c, b.c);
                g.linearForward(out.g, x.g, w.g, b.g);
                assertClose("linear forward " + tag, out, 2e-5);
                Pair out2 = poisoned(g, n, o);
                cpu.linearForward(out2.c, x.c, w.c, null);
                g.linearForward(out2.g, x.g, w.g, null);
                assertClose("linear forward, no bias " + tag, out2, 2e-5);
                Pair dout = random(g, 1.0, n, o), din = random(g, 1.0, n, in), dw = random(g, 1.0, o, in);
                Pair db = random(g, 1.0, o);
                cpu.linearBackward(din.c, dw.c, db.c, dout.c, x.c, w.c);
                g.linearBackward(din.g, dw.g, db.g, dout.g, x.g, w.g);
                assertClose("linear din " + tag, din, 2e-5);
                assertClose("linear dweight " + tag, dw, 2e-5);
                assertClose("linear dbias " + tag, db, 2e-5);
                cpu.linearBackward(null, dw.c, null, dout.c, x.c, w.c);   // partial requests
                g.linearBackward(null, dw.g, null, dout.g, x.g, w.g);
                assertClose("linear dweight only " + tag, dw, 2e-5);
                release(g, x, w, b, out, out2, dout, din, dw, db);
            }
        }
    }

    @Test
    void layerNorm() {
        int[][] shapes = fit(100_000, new int[][] {{1, 1}, {7, 5}, {33, 64}, {130, 67}, {1760, 1024}, {3, 4099}});
        for (int[] s : shapes) {
            int n = s[0], c = s[1];
            String tag = Arrays.toString(s);
            Pair x = same(gpu, shifted(n * c, 3.0, 2.0), n, c), w = random(c), b = random(c);
            Pair out = poisoned(n, c), mean = poisoned(n), rstd = poisoned(n);
            cpu.layerNormForward(out.c, mean.c, rstd.c, x.c, w.c, b.c, 1e-5);
            gpu.layerNormForward(out.g, mean.g, rstd.g, x.g, w.g, b.g, 1e-5);
            assertClose("layernorm out " + tag, out, 1e-4);
            assertClose("layernorm mean " + tag, mean, 1e-5);
            assertClose("layernorm rstd " + tag, rstd, 1e-4);
            Pair dout = random(n, c), din = random(n, c), dw = random(c), db = random(c);
            cpu.layerNormBackward(din.c, dw.c, db.c, dout.c, x.c, w.c, mean.c, rstd.c);
            gpu.layerNormBackward(din.g, dw.g, db.g, dout.g, x.g, w.g, mean.g, rstd.g);
            assertClose("layernorm din " + tag, din, 1e-4);
            assertClose("layernorm dweight " + tag, dw, 1e-4);
            assertClose("layernorm dbias " + tag, db, 1e-5);
            release(gpu, x, w, b, out, mean, rstd, dout, din, dw, db);
        }
    }

    private float[] shifted(int n, double scale, double shift) {
        float[] a = randn(n, scale);
        for (int i = 0; i < n; i++) a[i] += (float) shift;
        return a;
    }

    // ---- attention -------------------------------------------------------------------------------------------

    /** B, T, H, hd: odd lengths around the tiles (Br = 64, Bc = 64 or 32), head dims 32/64/128, small and odd ones. */
    private static final int[][] ATT_SHAPES = {{1, 1, 1, 8}, {2, 17, 3, 16}, {1, 70, 4, 64}, {2, 33, 2, 40},
            {1, 9, 2, 130}, {2, 220, 16, 64}, {1, 7, 2, 64}, {2, 65, 4, 32}, {1, 130, 4, 128}, {2, 63, 3, 128},
            {1, 129, 2, 37}, {1, 65, 1, 128}};   // the last: hd 128 over two key tiles, small enough to emulate

    /** NoPE, ALiBi, Hard-ALiBi (windows 1, 2, …; the rest NoPE), mixed, and windows longer than the sequence. */
    private static AttentionSpec[] specs(int h, int hd, int t) {
        int[] hard = new int[h], wide = new int[h];
        double[] alibi = new double[h];
        for (int i = 0; i < h; i++) {
            hard[i] = i < (h + 1) / 2 ? i + 1 : 0;              // Hard-ALiBi: windows 1, 2, …; the rest NoPE
            alibi[i] = Math.pow(2, -8.0 * (i + 1) / h);
            wide[i] = i % 2 == 0 ? t + 1 + i : (i % 4 == 1 ? 0 : t);
        }
        int[] mixedW = hard.clone();
        double[] mixedS = alibi.clone();
        for (int i = 0; i < h; i += 2) mixedS[i] = 0;
        return new AttentionSpec[] {AttentionSpec.plain(h, hd), new AttentionSpec(h, hd, new int[h], alibi),
                new AttentionSpec(h, hd, hard, new double[h]), new AttentionSpec(h, hd, mixedW, mixedS),
                new AttentionSpec(h, hd, wide, new double[h])};
    }

    /** One backend per attention precision (the default one is `gpu`), made on first use. */
    private static final java.util.Map<AttentionPrecision, CudaBackend> BY_PRECISION =
            new java.util.EnumMap<>(AttentionPrecision.class);
    private static Backend cpu64;

    private static CudaBackend gpu(AttentionPrecision p) {
        if (gpu.attentionPrecision() == p) return gpu;
        return BY_PRECISION.computeIfAbsent(p, q -> new CudaBackend(0, GemmMode.AUTO, q));
    }

    private static Backend cpu64() {
        if (cpu64 == null) cpu64 = new parrot.backend.cpu.f64.CpuBackend();
        return cpu64;
    }

    /**
     * Relative to the largest reference magnitude: FP32 and SIMPLE against the float32 CPU backend; BF16 and TF32
     * against the float64 CPU backend on the same (unrounded) inputs, with room for rounding the operands to
     * bf16 (8 bits) or tf32 (11 bits). The emulator (make kernels-emu-test) prints the errors it sees this way.
     */
    private static double[] attentionTolerances(AttentionPrecision p) {    // out and lse, dqkv
        return switch (p) {
            case FP32, SIMPLE -> new double[] {1e-5, 1e-4};
            case TF32 -> new double[] {4e-3, 8e-3};
            case BF16 -> new double[] {3e-2, 6e-2};
        };
    }

    private static Backend referenceFor(AttentionPrecision p) {
        return p == AttentionPrecision.BF16 || p == AttentionPrecision.TF32 ? cpu64() : cpu;
    }

    @Test
    void rope() {
        for (int[] s : fit(100_000, ATT_SHAPES)) {
            int b = s[0], t = s[1], h = s[2], hd = s[3];
            for (RopeSpec spec : new RopeSpec[] {RopeSpec.of(h, hd, 0.25, 10000), new RopeSpec(h, hd, hd - hd % 2, 10000)}) {
                for (int off : new int[] {0, 5, 999}) {
                    String tag = Arrays.toString(s) + " rot=" + spec.rotaryDims() + " off=" + off;
                    Pair qkv = random(b * t, 3 * h * hd), out = poisoned(b * t, 3 * h * hd);
                    cpu.ropeForward(out.c, qkv.c, spec, b, t, off);
                    gpu.ropeForward(out.g, qkv.g, spec, b, t, off);
                    assertClose("rope forward " + tag, out, 1e-5);
                    cpu.ropeForward(qkv.c, qkv.c, spec, b, t, off);    // in place
                    gpu.ropeForward(qkv.g, qkv.g, spec, b, t, off);
                    assertClose("rope forward in place " + tag, qkv, 1e-5);
                    Pair dout = random(b * t, 3 * h * hd), dqkv = random(b * t, 3 * h * hd);
                    cpu.ropeBackward(dqkv.c, dout.c, spec, b, t, off);
                    gpu.ropeBackward(dqkv.g, dout.g, spec, b, t, off);
                    assertClose("rope backward " + tag, dqkv, 1e-5);
                    release(gpu, qkv, out, dout, dqkv);
                }
            }
        }
    }

    /** Forward (out, lse) and backward (dq, dk, dv: all of dqkv, accumulating) of every precision and scheme. */
    @Test
    void attentionForwardAndBackward() {
        for (AttentionPrecision p : AttentionPrecision.values()) {
            CudaBackend g = gpu(p);
            Backend ref = referenceFor(p);
            double[] tol = attentionTolerances(p);
            for (int[] s : fit(20_000, ATT_SHAPES)) {
                int b = s[0], t = s[1], h = s[2], hd = s[3];
                for (AttentionSpec spec : specs(h, hd, t)) {
                    String tag = p + " " + Arrays.toString(s) + " windows=" + Arrays.toString(spec.windows())
                            + " slopes=" + Arrays.toString(spec.slopes());
                    float[] x = randn(b * t * 3 * h * hd, 1.0), dy = randn(b * t * h * hd, 1.0);
                    float[] g0 = randn(b * t * 3 * h * hd, 1.0);
                    Tensor[] r = attentionOn(ref, x, dy, g0, spec, b, t);
                    Tensor[] o = attentionOn(g, x, dy, g0, spec, b, t);
                    assertClose("attention out " + tag, ref.toFloats(r[0]), g.toFloats(o[0]), tol[0]);
                    assertCloseLse("attention lse " + tag, ref.toFloats(r[1]), g.toFloats(o[1]), tol[0]);
                    assertClose("attention dqkv (dq, dk, dv) " + tag, ref.toFloats(r[2]), g.toFloats(o[2]), tol[1]);
                    float[] out1 = g.toFloats(o[0]);
                    g.attentionForward(o[0], o[1], o[3], spec, b, t);
                    assertArrayEquals(out1, g.toFloats(o[0]), "attention forward not bitwise reproducible " + tag);
                    for (Tensor z : r) ref.release(z);
                    for (Tensor z : o) g.release(z);
                }
            }
        }
    }

    /** out, lse, dqkv (from g0, accumulated), qkv: the forward then the backward of one attention on a backend. */
    private static Tensor[] attentionOn(Backend be, float[] x, float[] dy, float[] g0, AttentionSpec spec, int b,
                                        int t) {
        int h = spec.heads(), hd = spec.headDim();
        Tensor qkv = be.zeros(b * t, 3 * h * hd), out = be.zeros(b * t, h * hd), lse = be.zeros(b, h, t);
        Tensor dout = be.zeros(b * t, h * hd), dqkv = be.zeros(b * t, 3 * h * hd);
        be.upload(qkv, x);
        be.upload(dout, dy);
        be.upload(dqkv, g0);
        float[] nan = new float[b * t * h * hd];
        Arrays.fill(nan, Float.NaN);
        be.upload(out, nan);                                   // poisoned: every element must be written
        be.upload(lse, Arrays.copyOf(nan, b * h * t));
        be.attentionForward(out, lse, qkv, spec, b, t);
        be.attentionBackward(dqkv, dout, qkv, out, lse, spec, b, t);
        be.release(dout);
        return new Tensor[] {out, lse, dqkv, qkv};
    }

    /** Windowed heads over many tiles (O(T·w) path): T = 1000, windows 1, 64, 65 and 0, every precision. */
    @Test
    void attentionLongWindowedSequence() {
        int b = 1, t = emulated ? 200 : 1000, h = 4, hd = 64;   // 200: still a few tiles of 64
        AttentionSpec spec = new AttentionSpec(h, hd, new int[] {1, 64, 65, 0}, new double[] {0, 0, 0.25, 0.0625});
        float[] x = randn(b * t * 3 * h * hd, 1.0), dy = randn(b * t * h * hd, 1.0), g0 = randn(b * t * 3 * h * hd, 1.0);
        for (AttentionPrecision p : AttentionPrecision.values()) {
            CudaBackend g = gpu(p);
            Backend ref = referenceFor(p);
            double[] tol = attentionTolerances(p);
            Tensor[] r = attentionOn(ref, x, dy, g0, spec, b, t);
            Tensor[] o = attentionOn(g, x, dy, g0, spec, b, t);
            assertClose("long windowed out " + p, ref.toFloats(r[0]), g.toFloats(o[0]), tol[0]);
            assertCloseLse("long windowed lse " + p, ref.toFloats(r[1]), g.toFloats(o[1]), tol[0]);
            assertClose("long windowed dqkv " + p, ref.toFloats(r[2]), g.toFloats(o[2]), tol[1]);
            for (Tensor z : r) ref.release(z);
            for (Tensor z : o) g.release(z);
        }
    }

    /** Split-KV decoding (FP32 in every flash precision; SIMPLE's own kernel) against the CPU and the full forward. */
    @Test
    void attentionDecodeMatchesCpuAndTheFullForward() {
        for (AttentionPrecision p : new AttentionPrecision[] {AttentionPrecision.FP32, AttentionPrecision.BF16,
                AttentionPrecision.SIMPLE}) {
            CudaBackend g = gpu(p);
            int[][] shapes = fit(6_000, new int[][] {{1, 1, 1, 8}, {2, 17, 3, 16}, {2, 33, 2, 40}, {1, 9, 2, 130},
                    {1, 140, 4, 64}, {2, 130, 4, 128}, {1, 300, 2, 32}, {1, 140, 1, 16}});  // the last: 2 chunks
            for (int[] s : shapes) {
                int b = s[0], t = s[1], h = s[2], hd = s[3];
                int maxLen = t + 3;
                for (AttentionSpec spec : specs(h, hd, t)) {
                    String tag = p + " " + Arrays.toString(s) + " windows=" + Arrays.toString(spec.windows());
                    float[] all = randn(b * t * 3 * h * hd, 1.0);
                    Pair full = same(g, all, b * t, 3 * h * hd), fullOut = poisoned(g, b * t, h * hd);
                    Pair lse = poisoned(g, b, h, t);
                    cpu.attentionForward(fullOut.c, lse.c, full.c, spec, b, t);
                    float[] fwd = cpu.toFloats(fullOut.c);
                    Pair kc = same(g, new float[b * h * maxLen * hd], b, h, maxLen, hd);
                    Pair vc = same(g, new float[b * h * maxLen * hd], b, h, maxLen, hd);
                    int w3 = 3 * h * hd, w = h * hd;
                    for (int pos = 0; pos < t; pos++) {
                        float[] step = new float[b * w3];
                        for (int bi = 0; bi < b; bi++)
                            System.arraycopy(all, (bi * t + pos) * w3, step, bi * w3, w3);
                        Pair qkv = same(g, step, b, w3), out = poisoned(g, b, w);
                        cpu.attentionDecode(out.c, qkv.c, kc.c, vc.c, spec, b, pos);
                        g.attentionDecode(out.g, qkv.g, kc.g, vc.g, spec, b, pos);
                        assertClose("decode pos=" + pos + " " + tag, out, 1e-5);
                        float[] got = g.toFloats(out.g);
                        float[] want = new float[b * w];
                        for (int bi = 0; bi < b; bi++) System.arraycopy(fwd, (bi * t + pos) * w, want, bi * w, w);
                        assertClose("decode vs forward pos=" + pos + " " + tag, want, got, 1e-5);
                        release(g, qkv, out);
                    }
                    assertClose("k cache " + tag, kc, 0);
                    assertClose("v cache " + tag, vc, 0);
                    release(g, full, fullOut, lse, kc, vc);
                }
            }
        }
    }

    // ---- loss and optimizer ----------------------------------------------------------------------------------

    @Test
    void crossEntropyMaskedWithGradient() {
        int[][] shapes = fit(300_000, new int[][] {{1, 1}, {7, 5}, {130, 30}, {1760, 30}, {33, 50304}, {5, 4099}});
        for (int[] s : shapes) {
            int n = s[0], v = s[1];
            int[] tgt = new int[n];
            for (int i = 0; i < n; i++) tgt[i] = i % 3 == 1 ? -1 : rnd.nextInt(v);
            Pair logits = random(gpu, 4.0, n, v), targets = ints(gpu, tgt, n), dlogits = poisoned(n, v);
            double ref = cpu.crossEntropy(dlogits.c, logits.c, targets.c, 0.125);
            double got = gpu.crossEntropy(dlogits.g, logits.g, targets.g, 0.125);
            assertScalar("crossEntropy loss " + Arrays.toString(s), ref, got, 1e-5);
            assertClose("crossEntropy dlogits " + Arrays.toString(s), dlogits, 1e-5);
            double again = gpu.crossEntropy(null, logits.g, targets.g, 0.125);
            assertEquals(Double.doubleToRawLongBits(got), Double.doubleToRawLongBits(again),
                    "crossEntropy loss not reproducible (or differs without dlogits)");
            release(gpu, logits, targets, dlogits);
        }
    }

    @Test
    void argmaxLowestIndexOnTies() {
        int[][] shapes = fit(300_000, new int[][] {{1, 1}, {7, 5}, {130, 30}, {33, 50304}});
        for (int[] s : shapes) {
            int n = s[0], v = s[1];
            float[] x = randn(n * v, 1.0);
            for (int i = 0; i < n; i++) {                       // plant ties of the row maximum
                int a = rnd.nextInt(v), b2 = rnd.nextInt(v);
                x[i * v + a] = 10f;
                x[i * v + b2] = 10f;
            }
            Pair logits = same(gpu, x, n, v);
            Tensor oc = cpu.zerosInt(n), og = gpu.zerosInt(n);
            cpu.argmax(oc, logits.c);
            gpu.argmax(og, logits.g);
            int[] want = cpu.toInts(oc), got = gpu.toInts(og);
            assertArrayEquals(want, got, "argmax " + Arrays.toString(s));
            for (int i = 0; i < n; i++) {
                int first = 0;
                while (x[i * v + first] != 10f) first++;
                assertEquals(first, got[i], "argmax row " + i + " must pick the lowest tied index");
            }
            cpu.release(oc);
            gpu.release(og);
            release(gpu, logits);
        }
    }

    @Test
    void adamw() {
        AdamWParams hp = new AdamWParams(0.9, 0.95, 1e-8);
        for (int n : SIZES) {
            Pair p = random(n), m = random(gpu, 0.1, n), v = same(gpu, abs(randn(n, 0.01)), n);
            for (int step = 1; step <= 3; step++) {
                Pair g = random(n);
                cpu.adamw(p.c, g.c, m.c, v.c, hp, 0.1, step, 1e-3);
                gpu.adamw(p.g, g.g, m.g, v.g, hp, 0.1, step, 1e-3);
                release(gpu, g);
            }
            assertClose("adamw param n=" + n, p, 1e-5);
            assertClose("adamw m n=" + n, m, 1e-5);
            assertClose("adamw v n=" + n, v, 1e-5);
            release(gpu, p, m, v);
        }
    }

    private static float[] abs(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = Math.abs(a[i]);
        return a;
    }

    // ---- housekeeping ----------------------------------------------------------------------------------------

    @Test
    void copyZeroAndTransfers() {
        Pair a = random(3, 5), b = poisoned(3, 5);
        cpu.copy(b.c, a.c);
        gpu.copy(b.g, a.g);
        assertClose("copy", b, 0);
        gpu.zero(b.g);
        assertArrayEquals(new float[15], gpu.toFloats(b.g));
        double[] d = {1.5, -2.25, 1e-3};
        Tensor t = gpu.zeros(3);
        gpu.upload(t, d);
        assertArrayEquals(new double[] {1.5, -2.25, (float) 1e-3}, gpu.toDoubles(t));
        int[] ints = {3, -1, 7, Integer.MAX_VALUE};
        Tensor it = gpu.zerosInt(2, 2);
        gpu.uploadInts(it, ints);
        assertArrayEquals(ints, gpu.toInts(it));
        gpu.release(t);
        gpu.release(it);
        release(gpu, a, b);
    }
}
