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
        AttentionKernels att = new AttentionKernels(dev, null);
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
        for (int[] s : new int[][] {{1, 1, 1, 8}, {8, 220, 16, 64}, {2, 2003, 16, 256}}) {  // B, T, H, hd
            int bsz = s[0], t = s[1], h = s[2], hd = s[3];
            RopeSpec rs = RopeSpec.of(h, hd, 0.25, 10000);
            CudaTensor qkv = f32(bsz * t, 3 * h * hd), out = f32(bsz * t, h * hd), lse = f32(bsz, h, t);
            rope.forward(qkv, qkv, rs, bsz, t, 3);
            rope.backward(qkv, qkv, rs, bsz, t, 3);
            int[] windows = new int[h];
            windows[0] = 1;
            AttentionSpec spec = new AttentionSpec(h, hd, windows, new double[h]);
            att.forward(out, lse, qkv, spec, bsz, t);
            att.backward(f32(bsz * t, 3 * h * hd), out, qkv, out, lse, spec, bsz, t);
            att.decode(f32(bsz, h * hd), f32(bsz, 3 * h * hd), f32(bsz, h, t, hd), f32(bsz, h, t, hd), spec, bsz, t,
                    t - 1);
        }

        RecurrentLauncherTest.driveAll(dev);   // scan, conv1d, rmsnorm, pointwise, lstm, multitensor

        Set<String> reached = new TreeSet<>();
        dev.launches.forEach(l -> reached.add(l.kernel()));
        Set<String> all = new TreeSet<>();
        KernelFamilies.names().forEach(f -> all.addAll(KernelFamilies.kernels(f)));
        assertEquals(all, reached, "kernels no launcher call reached");
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
}
