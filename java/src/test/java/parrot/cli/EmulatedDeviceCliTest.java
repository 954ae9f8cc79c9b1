package parrot.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;
import parrot.results.ResultsIO;

/**
 * `parrot selftest --device cuda` through the CLI on whatever CUDA device there is (the emulated one in make
 * test): its text and JSON name the device, and on the emulated device say it is not a GPU result; runs on the
 * emulated device refuse to write under experiments/results/. The whole suite runs in CudaParityTest (the same
 * checks); here a slice of it (every training step and one op per family) checks the command's wiring.
 */
class EmulatedDeviceCliTest {
    private static DeviceChoice cuda() {
        DeviceChoice choice = DeviceSelector.choose("cuda");
        assumeTrue(choice.isCuda(), () -> "no CUDA device: SKIPPED (" + choice.reason() + ")");
        return choice;
    }

    @Test
    void selftestNamesTheDevice(@TempDir Path dir) throws Exception {
        DeviceChoice choice = cuda();
        Path json = dir.resolve("parity.json");
        CliTest.Run r = CliTest.run("selftest", "--device", "cuda", "--json", json.toString(), "--only",
                "^(training step (transformer/hard-alibi|mamba/mamba |lstm)|add n=7$|linear 7x5->3 \\+bias|attention hard-alibi b=2 t=17|scan b=2 t=150|lstm b=2 t=5 h=3 \\+bias"
                        + "|adamw-multi-tensor 6|clip-grad-norm 6 tensors max=1.0)");
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode doc = ResultsIO.JSON.readTree(json.toFile());
        boolean emulated = DeviceSelector.isEmulated(choice.deviceName());
        assertEquals(choice.deviceName(), doc.get("device").asText());
        assertEquals(emulated, doc.get("emulated").asBoolean());
        assertEquals(0, doc.get("failed").asInt());
        int steps = 0;
        for (JsonNode c : doc.get("checks")) {
            assertEquals("PASSED", c.get("status").asText(), c.toString());
            if (c.get("name").asText().startsWith("training step ")) steps++;
        }
        assertEquals(3, steps, "a training step of the transformer, Mamba and LSTM families");
        assertTrue(doc.get("passed").asInt() >= 14, "and the ops: " + doc.get("passed"));
        assertTrue(r.out().contains("on device \"" + choice.deviceName() + "\""), r.out());
        if (emulated) assertTrue(r.out().contains("not a GPU result"), r.out());
    }

    @Test
    void emulatedRunsStayOutOfExperimentsResults(@TempDir Path dir) throws Exception {
        DeviceChoice choice = cuda();
        assumeTrue(DeviceSelector.isEmulated(choice.deviceName()), "only the emulated device is refused: SKIPPED on " + choice.deviceName());
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, CliTest.CONFIG);
        Path out = dir.resolve("experiments/results/h100");
        CliTest.Run r = CliTest.run("train", "--config", cfg.toString(), "--device", "cuda", "--out", out.toString(),
                "--set", "train.steps=1");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--out " + out) && r.err().contains(DeviceSelector.EMULATED_DEVICE_NAME), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("parrot:")).count(), "one line: " + r.err());
        assertFalse(Files.exists(out), "nothing written");
        CliTest.Run s = CliTest.run("selftest", "--device", "cuda", "--only", "^add n=1$", "--json",
                dir.resolve("experiments/results/cpu/parity.json").toString());
        assertEquals(2, s.code(), s.out() + s.err());
    }
}
