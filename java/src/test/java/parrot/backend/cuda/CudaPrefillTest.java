package parrot.backend.cuda;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.model.Decoder;
import parrot.model.LanguageModel;
import parrot.model.PrefillCheck;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Batched prefill on the CUDA backend (the fill-cache, conv-window and scan-prefill kernels, the training
 * forward's kernels over the prompt): prefill then steps against stepping on the same device, and prefill's
 * logits against the CPU backend's with the same weights. On a real card it runs there; in `make test` on the
 * emulated CUDA device (not a GPU result; every message names the device). Without either: SKIPPED.
 */
class CudaPrefillTest {
    @ParameterizedTest
    @ValueSource(strings = {"rope", "hard-alibi", "mamba", "hybrid-all"})
    void prefillMatchesSteppingAndTheCpu(String kind) {
        DeviceChoice choice = DeviceSelector.choose("cuda");
        assumeTrue(choice.isCuda(), () -> "no CUDA device: SKIPPED (" + choice.reason() + ")");
        String device = choice.deviceName() + (DeviceSelector.isEmulated(choice.deviceName()) ? " (emulated: not a GPU result)" : "");
        int vocab = 30;
        int[][] prompts = PrefillCheck.prompts(2, 9, vocab, 5);
        try (Backend cuda = new CudaBackend(choice.ordinal()); Backend cpu = new CpuBackend()) {
            LanguageModel g = PrefillCheck.model(kind, vocab, cuda, 11), c = PrefillCheck.model(kind, vocab, cpu, 11);
            double w = PrefillCheck.assertPrefillMatchesStepping(kind + " on " + device, g, prompts, 3, 1e-4);
            System.out.printf("prefill %s on %s: worst relative difference to stepping %.2e%n", kind, device, w);
            float[] a = prefill(g, prompts), b = prefill(c, prompts);
            double worst = 0;
            for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
            final double fw = worst;
            assertTrue(worst <= 1e-4, () -> kind + ": prefill logits on " + device + " differ from the CPU's by " + fw);
        }
    }

    private static float[] prefill(LanguageModel m, int[][] prompts) {
        Decoder d = m.decoder(prompts.length, prompts[0].length);
        try {
            return m.backend().toFloats(d.prefill(prompts, prompts[0].length, true));
        } finally {
            d.release();
        }
    }
}
