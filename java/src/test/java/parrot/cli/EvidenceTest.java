package parrot.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import parrot.backend.cuda.DeviceSelector;

/** The rule that keeps the emulated device's output out of experiments/results/ (no device needed). */
class EvidenceTest {
    @Test
    void refusesOnlyEmulatedRunsUnderExperimentsResults() {
        assertTrue(Evidence.underResults(Path.of("experiments/results/h100/run")));
        assertTrue(Evidence.underResults(Path.of("/x/parrot/experiments/results/cpu/a.json")));
        assertTrue(Evidence.underResults(Path.of("runs/../experiments/results/a100")));
        assertFalse(Evidence.underResults(Path.of("runs/experiments-results")));
        assertFalse(Evidence.underResults(Path.of("experiments/quickstart.json")));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Evidence.refuseResultsFolder(Path.of("experiments/results/h100"), true, "--out"));
        assertTrue(e.getMessage().startsWith("--out experiments/results/h100: ") && e.getMessage().contains(DeviceSelector.EMULATED_DEVICE_NAME),
                e.getMessage());
        assertDoesNotThrow(() -> Evidence.refuseResultsFolder(Path.of("experiments/results/h100"), false, "--out"));
        assertDoesNotThrow(() -> Evidence.refuseResultsFolder(Path.of("runs/x"), true, "--out"));
        assertDoesNotThrow(() -> Evidence.refuseResultsFolder(null, true, "--json"));
        assertTrue(DeviceSelector.isEmulated("emulated CUDA device (CPU)"));
        assertFalse(DeviceSelector.isEmulated("NVIDIA H100 80GB HBM3"));
    }
}
