package parrot.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;
import parrot.backend.AdamWParams;
import parrot.backend.AttentionSpec;
import parrot.backend.RopeSpec;
import parrot.backend.Tensor;
import parrot.backend.cpu.AttentionTiling;

/**
 * Drives every launcher without a GPU through a recording {@link Device}: each launch must pass arguments that
 * match its kernel's declared signature (which KernelSourcesTest matches against the PTX) and respect CUDA's
 * launch limits; together the calls must reach every kernel.
 */
class LauncherTest {

    private record Launch(String kernel, Dim3 grid, Dim3 block, String signature) {
    }

    private static final class RecordingDevice implements Device {
        final List<Launch> launches = new ArrayList<>();

        @Override
        public void launch(CudaModule module, String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
            Device.checkSignature(kernel, args);
            Device.checkShape(kernel, grid, block, sharedBytes);
            launches.add(new Launch(kernel, grid, block, args.signature()));
        }

        @Override
        public CUdeviceptr scratch(String name, long bytes) {
            return new CUdeviceptr();
        }

        @Override
        public void download(Pointer dst, CUdeviceptr src, long bytes) {
        }

        Launch last() {
            return launches.get(launches.size() - 1);
        }
    }

    private static CudaTensor f32(int... shape) {
        return new CudaTensor(null, new CUdeviceptr(), shape, Tensor.DType.F32);
    }

    private static CudaTensor i32(int... shape) {
        return new CudaTensor(null, new CUdeviceptr(), shape, Tensor.DType.I32);
    }

    @Test
    void everyLauncherMatchesItsKernelsAndReachesThemAll() {
        RecordingDevice dev = new RecordingDevice();
        ElementwiseKernels ew = new ElementwiseKernels(dev, null);
        EmbeddingKernels emb = new EmbeddingKernels(dev, null);
        LinearKernels lin = new LinearKernels(dev, null);
        LayerNormKernels ln = new LayerNormKernels(dev, null);
        RopeKernels rope = new RopeKernels(dev, null);
        List<AttentionKernels> atts = new ArrayList<>();
        for (AttentionPrecision p : AttentionPrecision.values()) atts.add(new AttentionKernels(dev, null, null, p));
        CrossEntropyKernels ce = new CrossEntropyKernels(dev, null, ew);
        OptimizerKernels opt = new OptimizerKernels(dev, null);

        for (int n : new int[] {1, 7, 1000, 50_000_000}) {
            CudaTensor a = f32(n), b = f32(n), c = f32(n);
            ew.add(a, b, c);
            ew.accumulate(a, b);
            ew.scale(a, 2f);
            ew.fill(a, Float.NaN);
            ew.geluForward(a, b);
            ew.geluBackward(a, b, c);
            ew.sumSquares(a);
            assertTrue(dev.last().grid().x() <= 1, "finalize runs one block");
            opt.adamw(a, b, c, f32(n), new AdamWParams(0.9, 0.95, 1e-8), 0.1, 1, 1e-3);
        }
        for (int[] s : new int[][] {{1, 1, 1}, {1761, 30, 64}, {4096, 50304, 1024}}) {   // N, V, C
            int n = s[0], v = s[1], cdim = s[2];
            emb.forward(f32(n, cdim), i32(n), f32(v, cdim), n, cdim, v);
            emb.backward(f32(v, cdim), f32(n, cdim), i32(n), n, cdim, v);
            ce.crossEntropy(f32(n, v), f32(n, v), i32(n), n, v, 1f);
            ce.crossEntropy(null, f32(n, v), i32(n), n, v, 1f);
            ce.argmax(i32(n), f32(n, v), n, v);
        }
        Gemm builtin = lin.builtinGemm();
        for (int[] s : new int[][] {{1, 1, 1}, {1760, 1024, 4096}, {4_000_000, 3, 5}}) {  // N, I, O
            int n = s[0], in = s[1], o = s[2];
            builtin.gemm(false, true, n, o, in, 1f, new CUdeviceptr(), in, new CUdeviceptr(), in, 0f,
                    new CUdeviceptr(), o);
            lin.biasAdd(f32(n, o), f32(o), n, o);
            lin.biasGrad(f32(o), f32(n, o), n, o);
            ln.forward(f32(n, in), f32(n), f32(n), f32(n, in), f32(in), null, n, in, 1e-5f);
            ln.backward(f32(n, in), f32(in), null, f32(n, in), f32(n, in), f32(in), f32(n), f32(n), n, in);
        }
        assertThrows(IllegalArgumentException.class, () -> builtin.gemm(false, false, 5_000_000, 1, 1, 1f,
                new CUdeviceptr(), 1, new CUdeviceptr(), 1, 0f, new CUdeviceptr(), 1));
        int[][] attShapes = {{1, 1, 1, 8}, {8, 220, 16, 64}, {2, 2003, 16, 256}, {4, 130, 8, 32}, {1, 65, 2, 128},
                {1, 1_000_000, 1, 64}};  // B, T, H, hd
        for (int[] s : attShapes) {
            int bsz = s[0], t = s[1], h = s[2], hd = s[3];
            RopeSpec rs = RopeSpec.of(h, hd, 0.25, 10000);
            CudaTensor qkv = f32(bsz * t, 3 * h * hd), out = f32(bsz * t, h * hd), lse = f32(bsz, h, t);
            rope.forward(qkv, qkv, rs, bsz, t, 3);
            rope.backward(qkv, qkv, rs, bsz, t, 3);
            int[] windows = new int[h];
            windows[0] = 1;
            AttentionSpec spec = new AttentionSpec(h, hd, windows, new double[h]);
            for (AttentionKernels att : atts) {
                att.forward(out, lse, qkv, spec, bsz, t);
                att.backward(f32(bsz * t, 3 * h * hd), out, qkv, out, lse, spec, bsz, t);
                att.decode(f32(bsz, h * hd), f32(bsz, 3 * h * hd), f32(bsz, h, t, hd), f32(bsz, h, t, hd), spec, bsz,
                        t, t - 1);
                att.fillCache(f32(bsz, h, t, hd), f32(bsz, h, t, hd), qkv, spec, bsz, t, t);
            }
        }

        RecurrentLauncherTest.driveAll(dev);   // scan, conv1d, rmsnorm, pointwise, lstm, multitensor

        Set<String> reached = new TreeSet<>();
        dev.launches.forEach(l -> reached.add(l.kernel()));
        Set<String> all = new TreeSet<>();
        KernelFamilies.names().forEach(f -> all.addAll(KernelFamilies.kernels(f)));
        assertEquals(all, reached, "kernels no launcher call reached");
    }

    /** The flash launches follow AttentionTiling: grids over (B·H, query or key tiles), J chunks for decoding. */
    @Test
    void flashLaunchShapesFollowTheTiling() {
        for (AttentionPrecision p : new AttentionPrecision[] {AttentionPrecision.FP32, AttentionPrecision.BF16,
                AttentionPrecision.TF32}) {
            for (int hd : new int[] {5, 32, 40, 64, 100, 128, 130, 256}) {
                RecordingDevice dev = new RecordingDevice();
                AttentionKernels att = new AttentionKernels(dev, null, null, p);
                int b = 3, h = 4, t = 1000;
                int[] windows = {1, 0, 300, 5000};
                AttentionSpec spec = new AttentionSpec(h, hd, windows, new double[h]);
                CudaTensor qkv = f32(b * t, 3 * h * hd), out = f32(b * t, h * hd), lse = f32(b, h, t);
                AttentionKernels.FlashPlan plan = AttentionKernels.flashPlan(p, hd);
                int hdp = hd <= 32 ? 32 : hd <= 64 ? 64 : hd <= 128 ? 128 : 256;
                assertEquals(hdp, plan.hdp());
                assertEquals(AttentionTiling.forHeadDim(hd).br(), plan.br(), "Br of the model, hd " + hd);
                assertEquals(AttentionTiling.forHeadDim(hd).bc(), plan.bc(), "Bc of the model, hd " + hd);
                boolean tc = p != AttentionPrecision.FP32 && hd <= 128;
                String dt = tc ? p.dtype() : "f32";

                att.forward(out, lse, qkv, spec, b, t);
                Launch fwd = dev.last();
                assertEquals("parrot_flash_attention_forward_hd" + hdp + "_" + dt, fwd.kernel());
                assertEquals(new Dim3(b * h, (t + plan.br() - 1) / plan.br(), 1), fwd.grid());

                att.backward(f32(b * t, 3 * h * hd), out, qkv, out, lse, spec, b, t);
                Launch pre = dev.launches.get(dev.launches.size() - 2), bwd = dev.last();
                assertEquals(AttentionKernels.FLASH_PRE, pre.kernel());
                assertEquals("parrot_flash_attention_backward_hd" + hdp + "_" + dt, bwd.kernel());
                assertEquals(new Dim3(b * h, (t + plan.bc() - 1) / plan.bc(), 1), bwd.grid());

                int maxLen = 1200, pos = 1100;
                att.decode(f32(b, h * hd), f32(b, 3 * h * hd), f32(b, h, maxLen, hd), f32(b, h, maxLen, hd), spec, b,
                        maxLen, pos);
                List<Launch> dec = dev.launches.subList(dev.launches.size() - 3, dev.launches.size());
                assertEquals(List.of(AttentionKernels.DECODE_APPEND, AttentionKernels.DECODE_SPLIT,
                        AttentionKernels.DECODE_COMBINE), dec.stream().map(Launch::kernel).toList());
                // head 1 (causal) reads chunks 0..8 of 128 keys; head 0 (window 1) only chunk 8
                assertEquals(new Dim3(b * h, 9, 1), dec.get(1).grid());
                assertEquals(new Dim3(b * h, 1, 1), dec.get(2).grid());
            }
        }
        AttentionSpec windowed = new AttentionSpec(2, 64, new int[] {1, 200}, new double[2]);
        assertEquals(1, AttentionKernels.decodeChunks(windowed, 127));
        assertEquals(2, AttentionKernels.decodeChunks(windowed, 128), "window 200 at 128 reaches back into chunk 0");
        assertEquals(2, AttentionKernels.decodeChunks(windowed, 327));
        assertEquals(2, AttentionKernels.decodeChunks(windowed, 328), "keys 129..328 span chunks 1 and 2");
        AttentionSpec narrow = new AttentionSpec(2, 64, new int[] {1, 100}, new double[2]);
        assertEquals(1, AttentionKernels.decodeChunks(narrow, 383), "keys 284..383 lie in chunk 2");
        assertEquals(2, AttentionKernels.decodeChunks(narrow, 300), "keys 201..300 span chunks 1 and 2");
    }

    @Test
    void attentionPrecisionParsesAndDefaultsToFp32() {
        assertEquals(AttentionPrecision.BF16, AttentionPrecision.parse(" BF16 "));
        assertEquals(AttentionPrecision.SIMPLE, AttentionPrecision.parse("simple"));
        assertThrows(IllegalArgumentException.class, () -> AttentionPrecision.parse("fp16"));
        if (System.getProperty("parrot.attention") == null && System.getenv("PARROT_ATTENTION") == null)
            assertEquals(AttentionPrecision.FP32, AttentionPrecision.fromEnvironment());
        assertTrue(AttentionPrecision.BF16.tensorCores(128));
        assertTrue(!AttentionPrecision.BF16.tensorCores(130) && !AttentionPrecision.FP32.tensorCores(64));
    }

    @Test
    void headParamsLayoutMatchesTheStruct() {
        AttentionSpec spec = new AttentionSpec(3, 8, new int[] {1, 0, 5}, new double[] {0.5, 0, 0.25});
        int[] w = AttentionKernels.headParams(spec);
        assertEquals(2 * AttentionKernels.MAX_HEADS, w.length, "HeadParams is int[64] + float[64]");
        assertEquals(5, w[2]);
        assertEquals(0.25f, Float.intBitsToFloat(w[AttentionKernels.MAX_HEADS + 2]));
        assertThrows(IllegalArgumentException.class,
                () -> AttentionKernels.checkSpec(AttentionSpec.plain(AttentionKernels.MAX_HEADS + 1, 8)));
        assertThrows(IllegalArgumentException.class, () -> AttentionKernels.checkSpec(AttentionSpec.plain(2, 257)));
    }

    @Test
    void aWrongArgumentListIsALauncherBug() {
        KernelArgs args = KernelArgs.of().ptr((CudaTensor) null).i(3);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Device.checkSignature(ElementwiseKernels.ADD, args));
        assertTrue(e.getMessage().contains("takes (pppi) but was given (pi)"), e.getMessage());
    }

    /** A launcher that computes an empty grid (e.g. one block short of 1) is told so with the kernel's name. */
    @Test
    void anEmptyLaunchNamesTheKernel() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Device.checkShape("parrot_scan_forward_f32", Dim3.of(0), Dim3.of(32), 0));
        assertTrue(e.getMessage().contains("parrot_scan_forward_f32") && e.getMessage().contains("empty launch"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Device.checkShape("k", Dim3.of(1), Dim3.of(1, 0), 0));
        assertThrows(IllegalArgumentException.class, () -> Dim3.of(-1));
    }
}
