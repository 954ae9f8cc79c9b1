package parrot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;
import parrot.results.LossPoint;
import parrot.results.ResultsIO;
import parrot.results.RunResult;

/**
 * A few steps of `parrot train --device cuda` (through the CLI entry point) for a Hard-ALiBi transformer and a
 * Mamba, against `--device cpu`: the same config, seed and batches, so every step's loss must agree.
 *
 * <p>Tolerance: 1e-4 relative on each step's loss. Both backends compute in float32 with the same seeded weights
 * and batches but sum in different orders (tiled GEMMs or cuBLAS, flash attention, the chunked scan); on the
 * emulated device, which runs the kernels' own arithmetic, the six losses agree to ~1e-8. A card adds its own
 * rounding (cuBLAS's summation order, the fused multiply-adds nvcc makes, the hardware exp) of ~1e-6 per op,
 * which AdamW can amplify over a few steps (it turns a gradient that is zero up to rounding into ±lr), so 1e-4
 * leaves room for that; a launcher bug (a wrong argument, a missing block, a short buffer) moves the loss by far
 * more, or makes it NaN.
 */
class CudaTrainingParityTest {
    static final double TOLERANCE = 1e-4;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hard-alibi", "mamba"})
    void lossesMatchTheCpu(String model, @TempDir Path dir) throws Exception {
        DeviceChoice choice = DeviceSelector.choose("cuda");
        assumeTrue(choice.isCuda(), () -> "no CUDA device: SKIPPED (" + choice.reason() + ")");
        Path cfg = dir.resolve("train-parity.json");
        try (var in = getClass().getResourceAsStream("/emulated/train-parity.json")) {
            Files.write(cfg, in.readAllBytes());
        }
        RunResult gpu = train(cfg, model, "cuda", dir.resolve("cuda")), cpu = train(cfg, model, "cpu", dir.resolve("cpu"));
        assertEquals("cpu", cpu.device());
        assertEquals(choice.deviceName(), gpu.device(), "result.json names the device");
        if (DeviceSelector.isEmulated(gpu.device())) assertTrue(gpu.backend().contains(DeviceSelector.EMULATED_DEVICE_NAME), gpu.backend());
        List<LossPoint> a = gpu.lossCurve(), b = cpu.lossCurve();
        assertEquals(6, b.size(), "one loss point per step (log_every 1)");
        assertEquals(b.size(), a.size());
        StringBuilder table = new StringBuilder(model + " on " + gpu.device() + " vs cpu:\n");
        double worst = 0;
        for (int i = 0; i < a.size(); i++) {
            double rel = Math.abs(a.get(i).loss() - b.get(i).loss()) / Math.abs(b.get(i).loss());
            worst = Math.max(worst, Double.isNaN(rel) ? Double.POSITIVE_INFINITY : rel);
            table.append(String.format("  step %d: cuda %.7f cpu %.7f rel %.2e%n", a.get(i).step(), a.get(i).loss(),
                    b.get(i).loss(), rel));
        }
        System.out.print(table);
        assertTrue(worst <= TOLERANCE, "losses differ by " + worst + " > " + TOLERANCE + "\n" + table);
    }

    private static RunResult train(Path cfg, String model, String device, Path out) throws Exception {
        CliTest.Run r = CliTest.run("train", "--config", cfg.toString(), "--model", model, "--device", device,
                "--out", out.toString(), "--no-progress");
        assertEquals(0, r.code(), r.out() + r.err());
        return ResultsIO.readRun(out.resolve(model).resolve("result.json"));
    }
}
