package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.cli.Main;
import parrot.config.ModelConfig;
import parrot.config.TaskConfig;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.train.Checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Export to the Hugging Face layout and back gives the same logits bitwise; the fixtures script's PyTorch forward
 * (transformers' GPT-NeoX and Mamba written out) of the exported folder gives them too; models transformers has
 * no architecture for are refused with the reason.
 */
class HfExportTest {
    static final int[] IDS = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};

    static ModelConfig rope() {
        return new ModelConfig("rope", "transformer", 32, 4, 2, "rope", null, null, 0.25, 10000, null, 1e-5, 0.1);
    }

    static ModelConfig nope() {
        return new ModelConfig("nope", "transformer", 32, 4, 2, "nope", null, null, 0.25, 10000, null, 1e-5, 0.1);
    }

    static ModelConfig mamba() {
        return new ModelConfig("mamba", "mamba", 16, 1, 2, null, null, null, 0.25, 10000, null, 1e-5, 0.1, 4, 4, 2, "auto",
                "rmsnorm", null, null);
    }

    @Test
    void roundTripGivesIdenticalLogits(@TempDir Path tmp) throws Exception {
        List<Path> dirs = new java.util.ArrayList<>();
        List<float[]> logits = new java.util.ArrayList<>();
        for (ModelConfig mc : List.of(rope(), nope(), mamba())) {
            try (Backend be = new CpuBackend()) {
                LanguageModel m = ModelFactory.create(mc, 40, be, 7);
                float[] want = be.toFloats(m.forward(IDS, 1, IDS.length)).clone();
                Path out = tmp.resolve(mc.name());
                HfExport.write(m, mc, out);
                HfModel back = HfModel.load(out, be, null);
                assertEquals(mc.positional(), back.config().model().positional(), mc.name());
                float[] got = be.toFloats(back.model().forward(IDS, 1, IDS.length));
                assertArrayEquals(want, got, mc.name());
                JsonNode cfg = HfModelTest.JSON.readTree(out.resolve("config.json").toFile());
                if (mc.name().equals("nope")) assertEquals(0.0, cfg.get("rotary_pct").asDouble());
                dirs.add(out);
                logits.add(got);
            }
        }
        pytorchAgrees(dirs, logits, 40);
    }

    /** The fixtures script's forward of the exported folder (skipped where Debian's python3-torch is missing). */
    static void pytorchAgrees(List<Path> dirs, List<float[]> logits, int vocab) throws Exception {
        Path script = Path.of("scripts/make_hf_fixtures.py");
        Assumptions.assumeTrue(Files.isRegularFile(script), "scripts/make_hf_fixtures.py not found from " + Path.of("").toAbsolutePath());
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3");
        String ids = String.join(",", Arrays.stream(IDS).mapToObj(Integer::toString).toList());
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", script.toString(), "--forward", ids));
        dirs.forEach(d -> cmd.add(d.toString()));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the script timed out");
        Assumptions.assumeFalse(p.exitValue() != 0 && err.contains("No module named 'torch'"),
                "Debian's python3-torch is not installed (apt-get install python3-torch)");
        assertEquals(0, p.exitValue(), err);
        JsonNode all = HfModelTest.JSON.readTree(out);
        assertEquals(dirs.size(), all.size());
        for (int i = 0; i < dirs.size(); i++) {
            JsonNode rows = all.get(i);
            assertEquals(IDS.length, rows.size());
            for (int t = 0; t < IDS.length; t++)
                for (int v = 0; v < vocab; v++) {
                    double w = rows.get(t).get(v).asDouble();
                    assertEquals(w, logits.get(i)[t * vocab + v], 1e-4 * (1 + Math.abs(w)), dirs.get(i) + " position " + t + " token " + v);
                }
        }
    }

    @Test
    void unsupportedModelsAreRefusedWithTheReason() {
        ModelConfig alibi = new ModelConfig("a", "transformer", 32, 4, 2, "alibi", null, null, 0.25, 10000, null, 1e-5, 0.1);
        ModelConfig hard = ModelConfig.defaults("h");
        ModelConfig lstm = new ModelConfig("l", "lstm", 16, 1, 1, null, null, null, 0.25, 10000, null, 1e-5, 0.1, 16, 4, 2,
                "auto", "layernorm", null, null);
        ModelConfig layerNormMamba = new ModelConfig("m", "mamba", 16, 1, 2, null, null, null, 0.25, 10000, null, 1e-5, 0.1,
                4, 4, 2, "auto", "layernorm", null, null);
        assertTrue(HfExport.refusal(alibi).contains("no ALiBi"));
        assertTrue(HfExport.refusal(hard).contains("positional hard-alibi"));
        assertTrue(HfExport.refusal(lstm).contains("no LSTM"));
        assertTrue(HfExport.refusal(layerNormMamba).contains("RMSNorm only"));
        try (Backend be = new CpuBackend()) {
            LanguageModel m = ModelFactory.create(alibi, 20, be, 1);
            HfModelTest.assertOneLine(assertThrows(HfException.class, () -> HfExport.write(m, alibi, Path.of("unused"))),
                    "cannot export model a to Hugging Face");
        }
    }

    @Test
    void exportCommandWritesTheFolder(@TempDir Path tmp) throws IOException {
        try (Backend be = new CpuBackend()) {
            LanguageModel m = ModelFactory.create(rope(), TaskConfig.defaults().vocabSize(), be, 3);
            Checkpoint.save(tmp.resolve("ck"), m, rope(), TaskConfig.defaults(), null);
            LanguageModel h = ModelFactory.create(ModelConfig.defaults("hard"), TaskConfig.defaults().vocabSize(), be, 3);
            Checkpoint.save(tmp.resolve("hard"), h, ModelConfig.defaults("hard"), TaskConfig.defaults(), null);
        }
        assertEquals(0, Main.run("export", "--checkpoint", tmp.resolve("ck").toString(), "--hf", tmp.resolve("out").toString()));
        assertTrue(Files.isRegularFile(tmp.resolve("out/config.json")));
        assertTrue(Files.isRegularFile(tmp.resolve("out/model.safetensors")));
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.run("export", "--checkpoint", tmp.resolve("hard").toString(), "--hf", tmp.resolve("out2").toString());
        } finally {
            System.setErr(old);
        }
        assertNotEquals(0, rc);
        String msg = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(msg.startsWith("parrot: --checkpoint: cannot export model hard") && !msg.contains("\n"), msg);
        assertTrue(Files.notExists(tmp.resolve("out2")));
    }
}
