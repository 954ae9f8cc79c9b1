package parrot.hf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.backend.cpu.CpuBackend;
import parrot.backend.cuda.CudaBackend;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The HF loader on the CUDA backend: tensors uploaded piece by piece at offsets (Backend.upload with offsets) give
 * the CPU's weights bitwise, and the loaded Pythia fixture's logits match the CPU's. On a real card it runs there;
 * in `make test` on the emulated CUDA device (not a GPU result; every message names the device). Without either:
 * SKIPPED.
 */
class CudaHfLoadTest {
    @Test
    void piecewiseUploadsGiveTheCpusWeights(@TempDir Path tmp) {
        DeviceChoice choice = DeviceSelector.choose("cuda");
        assumeTrue(choice.isCuda(), () -> "no CUDA device: SKIPPED (" + choice.reason() + ")");
        String device = choice.deviceName() + (DeviceSelector.isEmulated(choice.deviceName()) ? " (emulated: not a GPU result)" : "");
        Path mid = tmp.resolve("mid");
        try (Backend cuda = new CudaBackend(choice.ordinal()); Backend cpu = new CpuBackend()) {
            // Offsets and lengths that are not multiples of anything, into a tensor, the rest left as it was.
            Tensor t = cuda.zeros(3, 7);
            float[] src = new float[30];
            for (int i = 0; i < src.length; i++) src[i] = i + 0.5f;
            cuda.upload(t, 2, src, 5, 11);
            cuda.upload(t, 13, src, 0, 8);
            float[] want = new float[21];
            for (int i = 0; i < 11; i++) want[2 + i] = src[5 + i];
            for (int i = 0; i < 8; i++) want[13 + i] = src[i];
            assertArrayEquals(want, cuda.toFloats(t), "ranged uploads on " + device);
            assertThrows(IndexOutOfBoundsException.class, () -> cuda.upload(t, 15, src, 0, 7), "past the tensor's end");
            cuda.release(t);

            HfWeightsTest.writeMid(cpu, mid);
            HfModel onCuda = HfModel.load(mid, cuda, null);
            HfWeightsTest.assertSameWeights(HfModel.load(mid, cpu, null).model(), onCuda.model(), "8-piece tensors on " + device);
            onCuda.release();

            int[] ids = HfExportTest.IDS;
            HfModel g = HfModel.load(HfModelTest.fixture("pythia-tiny"), cuda, null);
            HfModel c = HfModel.load(HfModelTest.fixture("pythia-tiny"), cpu, null);
            HfWeightsTest.assertSameWeights(c.model(), g.model(), "pythia-tiny (F16) on " + device);
            float[] a = cuda.toFloats(g.model().forward(ids, 1, ids.length)), b = cpu.toFloats(c.model().forward(ids, 1, ids.length));
            assertEquals(b.length, a.length);
            double worst = 0;
            for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
            final double w = worst;
            System.out.printf("HF load on %s: weights bitwise equal to the CPU's; pythia-tiny logits within %.2e%n", device, w);
            assertTrue(worst <= 1e-4, () -> "pythia-tiny logits on " + device + " differ from the CPU's by " + w);
            g.release();
        }
    }
}
