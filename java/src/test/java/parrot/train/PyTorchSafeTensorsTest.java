package parrot.train;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.Fixtures;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A safetensors file written the way PyTorch writes one (scripts/make_fixtures.py: pytorch-rope.safetensors,
 * Hugging Face GPT-NeoX names) loads into parrot's model, directly and as a checkpoint, and gives PyTorch's
 * logits.
 */
class PyTorchSafeTensorsTest {
    static Path resource(Path dir, String name) throws IOException {
        try (InputStream in = PyTorchSafeTensorsTest.class.getResourceAsStream("/fixtures/" + name)) {
            assertNotNull(in, name);
            Path f = dir.resolve(name);
            Files.copy(in, f);
            return f;
        }
    }

    static ModelConfig config(JsonNode c) {
        return ConfigLoader.parseModel("""
                {"name": "pytorch", "d_model": %d, "n_heads": %d, "n_layers": %d, "intermediate_size": %d,
                 "positional": "rope", "rotary_pct": %s, "rope_base": %s}
                """.formatted(c.get("d_model").asInt(), c.get("n_heads").asInt(), c.get("n_layers").asInt(),
                c.get("intermediate_size").asInt(), c.get("rotary_pct").asText(), c.get("rope_base").asText()));
    }

    static double[] logits(LanguageModel m, JsonNode fx) {
        JsonNode c = fx.get("config");
        Tensor out = m.forward(Fixtures.ints(fx.get("inputs")), c.get("batch").asInt(), c.get("seq_len").asInt());
        return m.backend().toDoubles(out);
    }

    @Test
    void pytorchWrittenWeightsLoadAndReproduceTheLogits(@TempDir Path tmp) throws IOException {
        JsonNode fx = Fixtures.read("pytorch-rope.json");
        Path file = resource(tmp, fx.get("weights").asText());
        Map<String, SafeTensors.Entry> tensors = SafeTensors.read(file);
        assertEquals("pt", SafeTensors.metadata(file).get("format"));
        ModelConfig mc = config(fx.get("config"));
        int vocab = fx.get("config").get("vocab").asInt();

        Backend f64 = new parrot.backend.cpu.f64.CpuBackend();
        LanguageModel m = ModelFactory.create(mc, vocab, f64, 99);
        assertEquals(m.parameters().list().size(), tensors.size(), "every tensor is a parameter and vice versa");
        Checkpoint.loadWeights(m, tensors, file);
        double[] expected = Fixtures.doubles(fx.get("logits"));
        Fixtures.assertClose("float64 logits", expected, logits(m, fx), 1e-9, 1e-6);
        LanguageModel m32 = ModelFactory.create(mc, vocab, new CpuBackend(), 99);
        Checkpoint.loadWeights(m32, tensors, file);
        Fixtures.assertClose("float32 logits", expected, logits(m32, fx), 1e-4, 1e-2);

        // The same file as the weights of a checkpoint folder (what Hugging Face's save_pretrained leaves beside a
        // config) evaluates like any parrot checkpoint.
        Path ck = tmp.resolve("ck");
        Files.createDirectories(ck);
        Files.copy(file, ck.resolve(Checkpoint.WEIGHTS));
        Files.writeString(ck.resolve(Checkpoint.CONFIG), """
                {"format": "parrot.checkpoint/1", "vocab_size": %d, "model": %s, "task": {"type": "copy"}}
                """.formatted(vocab, ConfigLoader.toJson(mc)));
        Checkpoint.Loaded loaded = Checkpoint.load(ck, f64);
        Fixtures.assertClose("checkpoint logits", expected, logits(loaded.model(), fx), 1e-9, 1e-6);
    }

    @Test
    void truncatedOrMisnamedFilesAreRefused(@TempDir Path tmp) throws IOException {
        JsonNode fx = Fixtures.read("pytorch-rope.json");
        Path file = resource(tmp, fx.get("weights").asText());
        byte[] all = Files.readAllBytes(file);
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 100));
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.write(cut, java.util.Arrays.copyOf(all, 5));
        assertThrows(IOException.class, () -> SafeTensors.read(cut));
        // A model of another shape names the tensor that does not fit.
        ModelConfig wider = ConfigLoader.parseModel("{\"name\": \"w\", \"d_model\": 32, \"n_heads\": 4, \"n_layers\": 2, \"positional\": \"rope\"}");
        LanguageModel m = ModelFactory.create(wider, 30, new CpuBackend(), 1);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.loadWeights(m, SafeTensors.read(file), file));
        assertTrue(bad.getMessage().contains("gpt_neox.embed_in.weight has shape [30, 16]"), bad.getMessage());
    }
}
