package parrot.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;
import parrot.backend.AdamWParams;
import parrot.backend.Tensor;

/**
 * The Mamba/LSTM and multi-tensor launchers (scan, conv1d, rmsnorm, pointwise, lstm, multitensor) driven without a
 * GPU: {@link #driveAll} is called by LauncherTest with its recording device (signatures and launch limits checked
 * there, every kernel reached), and the tests here check the launchers' own limits and the multi-tensor tables.
 */
class RecurrentLauncherTest {

    /** A device that delegates to dev and counts table uploads instead of copying. */
    static final class Tables implements Device {
        final Device dev;
        final List<Long> uploads = new ArrayList<>();
        final List<String> kernels = new ArrayList<>();

        Tables(Device dev) {
            this.dev = dev;
        }

        @Override
        public void launch(CudaModule module, String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
            kernels.add(kernel);
            dev.launch(module, kernel, grid, block, sharedBytes, args);
        }

        @Override
        public CUdeviceptr scratch(String name, long bytes) {
            return dev.scratch(name, bytes);
        }

        @Override
        public void download(Pointer dst, CUdeviceptr src, long bytes) {
            dev.download(dst, src, bytes);
        }

        @Override
        public void uploadTable(CUdeviceptr dst, Pointer src, long bytes) {
            uploads.add(bytes);
        }
    }

    static CudaTensor f32(int... shape) {
        return new CudaTensor(null, new CUdeviceptr(), shape, Tensor.DType.F32);
    }

    /** Every new launcher entry point on small, odd and paper-scale shapes. */
    static void driveAll(Device device) {
        Tables dev = new Tables(device);
        PointwiseKernels pw = new PointwiseKernels(dev, null);
        RmsNormKernels rms = new RmsNormKernels(dev, null);
        Conv1dKernels conv = new Conv1dKernels(dev, null);
        ScanKernels scan = new ScanKernels(dev, null);
        LstmKernels lstm = new LstmKernels(dev, null, pw);
        MultiTensorKernels mt = new MultiTensorKernels(dev, null);
        Gemm gemm = new LinearKernels(dev, null).builtinGemm();
        LinearKernels lin = new LinearKernels(dev, null);

        for (int n : new int[] {1, 7, 50_000_000}) {
            CudaTensor a = f32(n), b = f32(n), c = f32(n);
            pw.siluForward(a, b);
            pw.siluBackward(a, b, c);
            pw.negExpForward(a, b);
            pw.negExpBackward(a, b, c);
        }
        pw.copyColumns(new CUdeviceptr(), 4096, 2048, new CUdeviceptr(), 4096, 0, 2048, 16384, true);
        for (int[] s : new int[][] {{1, 1}, {1760, 1024}, {16384, 2048}}) {
            int n = s[0], c = s[1];
            rms.forward(f32(n, c), f32(n), f32(n, c), f32(c), n, c, 1e-5f);
            rms.backward(f32(n, c), f32(c), f32(n, c), f32(n, c), f32(c), f32(n), n, c);
        }
        for (int[] s : new int[][] {{1, 1, 1, 1}, {8, 220, 2048, 4}, {2, 3, 5, 8}, {64, 2048, 1536, 4}}) {  // B, L, C, K
            int bsz = s[0], l = s[1], c = s[2], k = s[3];
            CudaTensor x = f32(bsz * l, c), w = f32(c, 1, k), b = f32(c);
            conv.forward(f32(bsz * l, c), x, w, b, bsz, l, c, k);
            conv.backward(f32(bsz * l, c), f32(c, 1, k), f32(c), f32(bsz * l, c), x, w, bsz, l, c, k);
            conv.step(f32(bsz, c), f32(bsz, c, k - 1), f32(bsz, c), w, null, bsz, c, k);
            conv.fillState(f32(bsz, c, k - 1), x, bsz, l, c, k);
        }
        for (int[] s : new int[][] {{1, 1, 1, 1}, {8, 220, 2048, 16}, {3, 130, 33, 64}, {2, 2048, 1536, 16}}) {  // B L D N
            int bsz = s[0], l = s[1], d = s[2], n = s[3], rows = bsz * l, ch = (l + ScanKernels.CHUNK - 1) / ScanKernels.CHUNK;
            CudaTensor u = f32(rows, d), bm = f32(rows, n), a = f32(d, n), ck = f32(bsz, ch, d, n), vd = f32(d);
            ScanKernels.checkShape(bsz, l, d, n);
            scan.forward(f32(rows, d), ck, u, u, a, bm, bm, vd, u, vd, true, bsz, l, d, n);
            scan.backward(f32(rows, d), f32(rows, d), f32(d, n), f32(rows, n), f32(rows, n), f32(d), f32(rows, d), f32(d),
                    u, ck, u, u, a, bm, bm, vd, u, vd, true, bsz, l, d, n);
            scan.backward(f32(rows, d), null, null, null, null, null, null, null, u, ck, u, u, a, bm, bm, null, null,
                    null, false, bsz, l, d, n);
            scan.step(f32(bsz, d), f32(bsz, d, n), f32(bsz, d), f32(bsz, d), a, f32(bsz, n), f32(bsz, n), null, null,
                    null, true, bsz, d, n);
            scan.prefill(f32(rows, d), f32(bsz, d, n), u, u, a, bm, bm, vd, u, vd, true, bsz, l, d, n);
        }
        for (int[] s : new int[][] {{1, 1, 1}, {8, 220, 1024}, {3, 5, 9}}) {   // B, L, H
            int bsz = s[0], l = s[1], h = s[2], rows = bsz * l;
            CudaTensor whh = f32(4 * h, h), bhh = f32(4 * h), hh = f32(rows, h), cc = f32(rows, h), g = f32(rows, 4 * h);
            lstm.forward(hh, cc, g, f32(rows, 4 * h), whh, bhh, bsz, l, h);
            lstm.backward(f32(rows, 4 * h), f32(4 * h, h), f32(4 * h), f32(rows, h), hh, cc, g, whh, bsz, l, h, gemm, lin);
            lstm.step(f32(bsz, h), f32(bsz, h), f32(bsz, 4 * h), whh, null, bsz, h);
        }
        CudaTensor[] p = {f32(3), f32(9000), f32(8192), f32(1)};
        CudaTensor[] g = {f32(3), f32(9000), f32(8192), f32(1)};
        CudaTensor[] m = {f32(3), f32(9000), f32(8192), f32(1)};
        CudaTensor[] v = {f32(3), f32(9000), f32(8192), f32(1)};
        mt.adamw(p, g, m, v, new AdamWParams(0.9, 0.95, 1e-8), new double[] {0.1, 0.1, 0, 0}, 1, 1e-3);
        mt.clipGradNorm(g, 1.0);
    }

    @Test
    void launcherLimits() {
        assertThrows(IllegalArgumentException.class, () -> ScanKernels.checkShape(1, 10, 4, 65));
        assertThrows(IllegalArgumentException.class, () -> ScanKernels.checkShape(1, 10, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> ScanKernels.checkShape(70_000, 10, 4, 16));
        assertThrows(IllegalArgumentException.class, () -> Conv1dKernels.checkWidth(9));
        Conv1dKernels.checkWidth(Conv1dKernels.MAX_K);
        assertEquals(ScanKernels.LANES * ScanKernels.WARPS, 256, "block (32, 8)");
        assertEquals(parrot.backend.cpu.ScanChunking.ITEMS * parrot.backend.cpu.ScanChunking.WARPS, ScanKernels.CHUNK,
                "the Java model's chunk is the kernel's");
        assertEquals(parrot.backend.cpu.ScanChunking.WARPS, ScanKernels.WARPS);
        assertEquals(parrot.backend.cpu.ScanChunking.LANES, ScanKernels.LANES);
    }

    @Test
    void convWeightGradientSegmentsDependOnTheShapeAlone() {
        assertEquals(1, Conv1dKernels.rowsPerSegment(1));
        assertEquals(300, Conv1dKernels.rowsPerSegment(300));
        long rows = 64L * 2048;
        int per = Conv1dKernels.rowsPerSegment(rows);
        assertTrue((rows + per - 1) / per <= Conv1dKernels.MAX_SEGMENTS);
    }

    @Test
    void multiTensorTablesAreUploadedOncePerTensorList() {
        Tables dev = new Tables(new Device() {
            @Override
            public void launch(CudaModule module, String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
                Device.checkSignature(kernel, args);
                Device.checkShape(kernel, grid, block, sharedBytes);
            }

            private final java.util.Map<String, CUdeviceptr> buffers = new java.util.HashMap<>();

            @Override
            public CUdeviceptr scratch(String name, long bytes) {
                return buffers.computeIfAbsent(name, k -> new CUdeviceptr());
            }

            @Override
            public void download(Pointer dst, CUdeviceptr src, long bytes) {
            }
        });
        MultiTensorKernels mt = new MultiTensorKernels(dev, null);
        CudaTensor[] p = {f32(3), f32(20000)}, g = {f32(3), f32(20000)}, m = {f32(3), f32(20000)}, v = {f32(3), f32(20000)};
        AdamWParams hp = new AdamWParams(0.9, 0.95, 1e-8);
        double[] wd = {0.1, 0};
        for (int step = 1; step <= 3; step++) mt.adamw(p, g, m, v, hp, wd, step, 1e-3);
        assertEquals(4, dev.uploads.size(), "work, pointers, sizes, decays: once");
        assertEquals(2 * 4 * 8L, dev.uploads.get(1), "2 tensors × (param, grad, m, v) pointers");
        mt.adamw(p, g, m, v, hp, new double[] {0.1, 0.1}, 4, 1e-3);
        assertEquals(8, dev.uploads.size(), "other weight decays: uploaded again");
        for (int i = 0; i < 3; i++) mt.clipGradNorm(g, 1.0);
        assertEquals(11, dev.uploads.size(), "clip tables (no decays): once");
        assertEquals(List.of(MultiTensorKernels.ADAMW, MultiTensorKernels.ADAMW, MultiTensorKernels.ADAMW,
                        MultiTensorKernels.ADAMW),
                dev.kernels.subList(0, 4), "one launch per AdamW step");
        assertEquals(3 * 3, dev.kernels.size() - 4, "clipping: Σx², coefficient, scale");
        // work items: 3 → one item, 20000 → three of 8192
        assertEquals(List.of(0, 0, 1, 0, 1, 8192, 1, 16384),
                java.util.Arrays.stream(MultiTensorKernels.workList(new int[] {3, 20000})).boxed().toList());
    }
}
