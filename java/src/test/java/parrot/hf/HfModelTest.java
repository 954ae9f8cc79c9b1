package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.backend.cpu.CpuBackend;
import parrot.model.Decoder;
import parrot.model.PrefillCheck;
import parrot.train.SafeTensors;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiny Pythia and Mamba folders in Hugging Face layout (scripts/make_hf_fixtures.py) load into parrot's models
 * and give PyTorch's float64 logits; every way a folder can be broken is one line naming what is wrong.
 */
class HfModelTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path fixture(String name) {
        try {
            return Path.of(HfModelTest.class.getResource("/hf/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode reference() throws IOException {
        return JSON.readTree(fixture("reference.json").toFile());
    }

    @ParameterizedTest
    @CsvSource({"pythia-tiny, pythia-tiny", "pythia-tiny-bf16, pythia-tiny", "mamba-tiny, mamba-tiny",
            "mamba-tiny-bf16, mamba-tiny"})
    void logitsMatchPyTorch(String folder, String ref) throws IOException {
        JsonNode r = reference();
        int b = r.get("inputs").size(), t = r.get("inputs").get(0).size();
        int[] ids = new int[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) ids[i * t + j] = r.get("inputs").get(i).get(j).asInt();
        try (Backend be = new CpuBackend()) {
            HfModel m = HfModel.load(fixture(folder), be, null);
            assertEquals(folder, m.name());
            float[] got = be.toFloats(m.model().forward(ids, b, t));
            JsonNode want = r.get("models").get(ref);
            int v = m.config().vocabSize();
            assertEquals(b * t, want.size());
            double worst = 0;
            for (int row = 0; row < b * t; row++)
                for (int k = 0; k < v; k++) {
                    double w = want.get(row).get(k).asDouble();
                    worst = Math.max(worst, Math.abs(got[row * v + k] - w) / (1 + Math.abs(w)));
                }
            // float32 against float64, and the reference's 6 significant digits: a wrong op is off by far more
            assertTrue(worst < 2e-5, folder + ": worst logit error " + worst + " (relative to 1 + |logit|)");

            // the decoder (KV cache with rotary offsets / recurrent state) gives the same logits step by step
            Decoder d = m.model().decoder(b, t);
            try {
                for (int j = 0; j < t; j++) {
                    int[] col = new int[b];
                    for (int i = 0; i < b; i++) col[i] = ids[i * t + j];
                    float[] step = be.toFloats(d.feed(col));
                    for (int i = 0; i < b; i++)
                        for (int k = 0; k < v; k++)
                            assertEquals(got[(i * t + j) * v + k], step[i * v + k], 1e-4, folder + " step " + j);
                }
            } finally {
                d.release();
            }
        }
    }

    /** Batched prefill and head skipping on the Hugging Face folders (partial rotary; Mamba's RMSNorm, tied head). */
    @ParameterizedTest
    @CsvSource({"pythia-tiny", "mamba-tiny"})
    void prefillMatchesStepping(String folder) throws IOException {
        JsonNode r = reference();
        int b = r.get("inputs").size(), t = r.get("inputs").get(0).size();
        int[][] prompts = new int[b][t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) prompts[i][j] = r.get("inputs").get(i).get(j).asInt();
        try (Backend be = new CpuBackend()) {
            HfModel m = HfModel.load(fixture(folder), be, null);
            PrefillCheck.assertPrefillMatchesStepping(folder, m.model(), prompts, 8, 1e-5);
            m.release();
        }
    }

    @Test
    void configsMapOntoParrotModels() throws IOException {
        HfConfig p = HfConfig.read(fixture("pythia-tiny"), "p");
        assertEquals("transformer", p.model().family());
        assertEquals("rope", p.model().positional());
        assertEquals(4, p.model().rotaryDims());
        assertEquals(304, p.vocabSize());
        assertEquals(64, p.maxPositions());
        HfConfig newer = HfConfig.read(fixture("pythia-tiny-bf16"), "p");
        assertEquals(p.model(), newer.model());
        HfConfig mb = HfConfig.read(fixture("mamba-tiny"), "m");
        assertEquals("mamba", mb.model().family());
        assertEquals("rmsnorm", mb.model().norm());
        assertEquals(2, mb.model().resolvedDtRank());
        assertEquals(32, mb.model().dInner());
        assertTrue(mb.tiedHead());

        ObjectNode nope = (ObjectNode) JSON.readTree(fixture("pythia-tiny").resolve("config.json").toFile());
        nope.put("rotary_pct", 0.0);
        assertEquals("nope", HfConfig.parse(nope, "n").model().positional());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "pythia-tiny | use_parallel_residual | false | use_parallel_residual: false is not supported",
            "pythia-tiny | hidden_act | \"gelu_new\" | hidden_act: 'gelu_new' is not supported",
            "pythia-tiny | tie_word_embeddings | true | tie_word_embeddings: true is not supported",
            "pythia-tiny | rope_scaling | {\"type\": \"linear\", \"factor\": 2} | rope_scaling:",
            "pythia-tiny | hidden_size | 25 | hidden_size: 25 is not divisible",
            "pythia-tiny | model_type | \"llama\" | model_type: 'llama' is not supported",
            "mamba-tiny | use_bias | true | use_bias: true is not supported",
            "mamba-tiny | use_conv_bias | false | use_conv_bias: false is not supported",
            "mamba-tiny | tie_word_embeddings | false | tie_word_embeddings: false is not supported",
            "mamba-tiny | intermediate_size | 48 | intermediate_size: 48 must be expand",
            "mamba-tiny | hidden_act | \"gelu\" | hidden_act: 'gelu' is not supported",
            "mamba-tiny | state_size | -1 | state_size: must be a positive integer"})
    void unsupportedFieldsAreRefusedByName(String folder, String field, String value, String message,
                                           @TempDir Path tmp) throws IOException {
        Path d = copy(fixture(folder), tmp.resolve(folder));
        ObjectNode cfg = (ObjectNode) JSON.readTree(d.resolve("config.json").toFile());
        cfg.set(field, JSON.readTree(value));
        JSON.writeValue(d.resolve("config.json").toFile(), cfg);
        HfException e = assertThrows(HfException.class, () -> HfConfig.read(d, "x"));
        assertOneLine(e, message);
        assertTrue(e.getMessage().startsWith(d.resolve("config.json").toString()), e.getMessage());
    }

    @Test
    void originalMambaConfigPointsToTheHfRepository() {
        ObjectNode n = JSON.createObjectNode().put("d_model", 768).put("n_layer", 24);
        n.putObject("ssm_cfg");
        assertOneLine(assertThrows(RuntimeException.class, () -> HfConfig.parse(n, "x")), "mamba-*-hf");
    }

    @Test
    void missingShard(@TempDir Path tmp) throws IOException {
        Path d = copy(fixture("mamba-tiny"), tmp.resolve("m"));
        Files.delete(d.resolve("model-00002-of-00002.safetensors"));
        assertOneLine(load(d), "shard model-00002-of-00002.safetensors is missing");
    }

    @Test
    void truncatedFile(@TempDir Path tmp) throws IOException {
        Path d = copy(fixture("pythia-tiny"), tmp.resolve("p"));
        Path f = d.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        HfException e = load(d);
        assertOneLine(e, f.toString());
    }

    @Test
    void unexpectedMissingAndMisshapenTensors(@TempDir Path tmp) throws IOException {
        Path d = copy(fixture("mamba-tiny-bf16"), tmp.resolve("m"));
        Path f = d.resolve("model.safetensors");
        Map<String, SafeTensors.Entry> all = SafeTensors.read(f);

        Map<String, SafeTensors.Entry> extra = new LinkedHashMap<>(all);
        extra.put("backbone.layers.0.mixer.extra_gate.weight", new SafeTensors.Entry(new int[]{2}, new float[2]));
        SafeTensors.write(f, extra, null);
        assertOneLine(load(d), "unexpected tensor backbone.layers.0.mixer.extra_gate.weight");

        Map<String, SafeTensors.Entry> less = new LinkedHashMap<>(all);
        less.remove("backbone.layers.1.mixer.D");
        SafeTensors.write(f, less, null);
        assertOneLine(load(d), "missing tensor backbone.layers.1.mixer.D");

        Map<String, SafeTensors.Entry> bad = new LinkedHashMap<>(all);
        bad.put("backbone.layers.1.mixer.D", new SafeTensors.Entry(new int[]{31}, new float[31]));
        SafeTensors.write(f, bad, null);
        assertOneLine(load(d), "tensor backbone.layers.1.mixer.D has shape [31], config.json makes it [32]");
    }

    @Test
    void wrongDtype(@TempDir Path tmp) throws IOException {
        Path d = copy(fixture("mamba-tiny-bf16"), tmp.resolve("m"));
        Path f = d.resolve("model.safetensors");
        SafeTensors.write(f, SafeTensors.read(f), null);          // F32 throughout
        byte[] bytes = Files.readAllBytes(f);
        String head = new String(bytes, 8, 4096, StandardCharsets.ISO_8859_1);
        int at = head.indexOf("\"F32\"", head.indexOf("\"backbone.norm_f.weight\"")) + 8 + 1;
        bytes[at] = 'I';                                          // same width: only the dtype changes
        Files.write(f, bytes);
        assertOneLine(load(d), "tensor backbone.norm_f.weight has dtype I32");
    }

    @Test
    void folderWithoutWeightsOrOnlyPickles(@TempDir Path tmp) throws IOException {
        Path d = copy(fixture("pythia-tiny"), tmp.resolve("p"));
        Files.delete(d.resolve("model.safetensors"));
        assertOneLine(load(d), "no model.safetensors");
        Files.write(d.resolve("pytorch_model.bin"), new byte[8]);
        assertOneLine(load(d), "pickled PyTorch weights");
        assertOneLine(assertThrows(HfException.class, () -> HfModel.load(tmp.resolve("nowhere"), new CpuBackend(), null)),
                "not a folder");
    }

    @Test
    void indexPathsMustStayInTheFolder(@TempDir Path tmp) throws IOException {
        Path d = copy(fixture("mamba-tiny"), tmp.resolve("m"));
        Path idx = d.resolve(HfWeights.INDEX);
        ObjectNode n = (ObjectNode) JSON.readTree(idx.toFile());
        ((ObjectNode) n.get("weight_map")).put("backbone.norm_f.weight", "../elsewhere.safetensors");
        JSON.writeValue(idx.toFile(), n);
        assertOneLine(load(d), "weight_map.backbone.norm_f.weight: must be a file name in the folder");
    }

    static HfException load(Path d) {
        return assertThrows(HfException.class, () -> {
            try (Backend be = new CpuBackend()) {
                HfModel.load(d, be, null);
            }
        });
    }

    static void assertOneLine(Throwable e, String part) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "more than one line: " + m);
        assertTrue(m.contains(part), "'" + part + "' not in: " + m);
    }

    static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
        return to;
    }
}
