package parrot.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static parrot.Fixtures.assertClose;

/**
 * Mamba, LSTM and hybrid stacks: float64 finite differences of the whole model's loss against backward (every
 * parameter element, the tied embedding/head included), recurrent decoding against the full forward, and the
 * size of what the scan saves for backward.
 */
class RecurrentModelTest {
    static final String[] KINDS = {"mamba", "mamba-rms", "lstm", "lstm-wide", "hybrid", "hybrid-all"};

    static ModelConfig config(String kind, int dModel) {
        String body = switch (kind) {
            case "mamba" -> "\"family\": \"mamba\", \"n_layers\": 2, \"d_state\": 4";
            case "mamba-rms" -> "\"family\": \"mamba\", \"n_layers\": 1, \"d_state\": 3, \"norm\": \"rmsnorm\", \"dt_rank\": 2, \"d_conv\": 3";
            case "lstm" -> "\"family\": \"lstm\", \"n_layers\": 2";
            case "lstm-wide" -> "\"family\": \"lstm\", \"n_layers\": 2, \"lstm_hidden\": " + (dModel + 2);
            case "hybrid" -> "\"family\": \"hybrid\", \"blocks\": \"mamba,attn\", \"d_state\": 4, \"n_heads\": 2, \"positional\": \"rope\", \"rotary_pct\": 0.5";
            case "hybrid-all" -> "\"family\": \"hybrid\", \"blocks\": \"lstm, mamba*2, attn\", \"d_state\": 2, \"n_heads\": 2, \"positional\": \"nope\", \"expand\": 1";
            default -> throw new IllegalArgumentException(kind);
        };
        return ConfigLoader.parseModel("{\"name\": \"t\", \"d_model\": " + dModel + ", " + body + "}");
    }

    /** Moves every parameter off its structured init (ones, zeros, log(1..N)) so that nothing cancels by luck. */
    static void jiggle(LanguageModel m, long seed) {
        Backend be = m.backend();
        Random r = new Random(seed);
        for (Parameter p : m.parameters().list()) {
            double[] v = be.toDoubles(p.value());
            for (int i = 0; i < v.length; i++) v[i] += 0.2 * r.nextGaussian();
            be.upload(p.value(), v);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba", "mamba-rms", "lstm", "lstm-wide", "hybrid", "hybrid-all"})
    void wholeModelGradient(String kind) {
        // chunk 4 on 7 steps: the scan backward recomputes across a chunk boundary
        Backend be = new parrot.backend.cpu.f64.CpuBackend(4);
        LanguageModel m = ModelFactory.create(config(kind, 8), 12, be, 3);
        jiggle(m, 9);
        int b = 2, t = 7;
        int[] in = {1, 4, 2, 7, 7, 3, 0, 11, 5, 5, 9, 2, 8, 1};
        int[] tg = {4, 2, -1, 7, 3, 0, 11, -1, 5, 9, 2, 6, 1, 3};
        ModelGradCheck.assertGradientsMatch(kind, m, in, tg, b, t, 1e-6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba", "mamba-rms", "lstm", "lstm-wide", "hybrid", "hybrid-all"})
    void recurrentDecodingEqualsFullForward(String kind) {
        Backend be = new CpuBackend();
        int vocab = 30, b = 3, t = 17;
        LanguageModel m = ModelFactory.create(config(kind, 32), vocab, be, 11);
        jiggle(m, 2);
        Random rnd = new Random(5);
        int[] tokens = new int[b * t];
        for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(vocab);
        double[] full = be.toDoubles(m.forward(tokens, b, t));
        Decoder d = m.decoder(b, t);
        int[] col = new int[b];
        for (int pos = 0; pos < t; pos++) {
            for (int s = 0; s < b; s++) col[s] = tokens[s * t + pos];
            double[] step = be.toDoubles(d.feed(col));
            double[] expected = new double[b * vocab];
            for (int s = 0; s < b; s++) System.arraycopy(full, (s * t + pos) * vocab, expected, s * vocab, vocab);
            assertClose(kind + " position " + pos, expected, step, 1e-4, 1.0);
        }
    }

    @Test
    void mambaHeadIsTheEmbedding() {
        LanguageModel m = ModelFactory.create(config("mamba", 8), 12, new CpuBackend(), 1);
        assertTrue(m.tiedHead());
        assertSame(m.parameters().get("backbone.embeddings.weight"), m.parameters().list().get(0));
        assertTrue(m.parameters().list().stream().noneMatch(p -> p.name().startsWith("lm_head")));
        assertEquals(false, ModelFactory.create(config("lstm", 8), 12, new CpuBackend(), 1).tiedHead());
    }

    /** The scan saves one state per chunk of 64 steps, not one per step. */
    @Test
    void scanSavesStatesPerChunkNotPerStep() {
        Backend be = new CpuBackend();
        ModelConfig mc = config("mamba", 16);
        LanguageModel m = ModelFactory.create(mc, 30, be, 1);
        int b = 2, t = 300;
        int[] in = new int[b * t], tg = new int[b * t];
        for (int i = 0; i < in.length; i++) in[i] = tg[i] = i % 30;
        m.forwardBackward(in, tg, b, t);
        int chunks = (t + 63) / 64;
        for (Block blk : m.blocks()) {
            long saved = ((MambaBlock) blk).scanCheckpoints().size();
            assertEquals((long) b * chunks * mc.dInner() * mc.dState(), saved);
            long everyStep = (long) b * t * mc.dInner() * mc.dState();
            assertTrue(saved * 50 < everyStep, saved + " saved state floats for " + everyStep + " states");
        }
    }

    @Test
    void parameterNamesLoadIntoPyTorchModules() {
        LanguageModel mamba = ModelFactory.create(config("mamba", 32), 30, new CpuBackend(), 1);
        ModelConfig mc = config("mamba", 32);
        int di = 64, n = 4, r = 2;
        assertEquals(java.util.List.of(30, 32), shape(mamba, "backbone.embeddings.weight"));
        assertEquals(java.util.List.of(2 * di, 32), shape(mamba, "backbone.layers.1.mixer.in_proj.weight"));
        assertEquals(java.util.List.of(di, 1, 4), shape(mamba, "backbone.layers.0.mixer.conv1d.weight"));
        assertEquals(java.util.List.of(r + 2 * n, di), shape(mamba, "backbone.layers.0.mixer.x_proj.weight"));
        assertEquals(java.util.List.of(di, r), shape(mamba, "backbone.layers.0.mixer.dt_proj.weight"));
        assertEquals(java.util.List.of(di, n), shape(mamba, "backbone.layers.0.mixer.A_log"));
        assertEquals(java.util.List.of(32, di), shape(mamba, "backbone.layers.0.mixer.out_proj.weight"));
        assertEquals(java.util.List.of(32), shape(mamba, "backbone.layers.0.norm.bias"));
        assertEquals(java.util.List.of(32), shape(mamba, "backbone.norm_f.weight"));
        assertEquals(di, mc.dInner());
        LanguageModel lstm = ModelFactory.create(config("lstm-wide", 8), 30, new CpuBackend(), 1);
        assertEquals(java.util.List.of(40, 8), shape(lstm, "lstm.weight_ih_l0"));
        assertEquals(java.util.List.of(40, 10), shape(lstm, "lstm.weight_ih_l1"));
        assertEquals(java.util.List.of(40, 10), shape(lstm, "lstm.weight_hh_l1"));
        assertEquals(java.util.List.of(30, 10), shape(lstm, "head.weight"));
        assertEquals(java.util.List.of(30), shape(lstm, "head.bias"));
        LanguageModel hybrid = ModelFactory.create(config("hybrid-all", 8), 30, new CpuBackend(), 1);
        assertEquals(java.util.List.of(32, 8), shape(hybrid, "backbone.layers.0.lstm.weight_ih_l0"));
        assertEquals(java.util.List.of(24, 8), shape(hybrid, "backbone.layers.3.attention.query_key_value.weight"));
    }

    /** Mamba's reference init: A_log = log(1..N), D = 1, dt = softplus(dt_proj.bias) in [0.001, 0.1]. */
    @Test
    void mambaInit() {
        Backend be = new CpuBackend();
        LanguageModel m = ModelFactory.create(config("mamba", 32), 30, be, 1);
        double[] aLog = be.toDoubles(m.parameters().get("backbone.layers.0.mixer.A_log").value());
        for (int d = 0; d < 64; d++)
            for (int s = 0; s < 4; s++) assertEquals(Math.log(s + 1), aLog[d * 4 + s], 1e-6);
        for (double v : be.toDoubles(m.parameters().get("backbone.layers.1.mixer.D").value())) assertEquals(1, v);
        for (double v : be.toDoubles(m.parameters().get("backbone.layers.0.mixer.dt_proj.bias").value())) {
            double dt = Math.log1p(Math.exp(v));
            assertTrue(dt >= 0.001 - 1e-7 && dt <= 0.1 + 1e-7, "dt " + dt);
        }
        double bound = 1 / Math.sqrt(2); // dt_rank 2
        for (double v : be.toDoubles(m.parameters().get("backbone.layers.0.mixer.dt_proj.weight").value()))
            assertTrue(Math.abs(v) <= bound);
        LanguageModel l = ModelFactory.create(config("lstm", 8), 30, be, 1);
        double[] bih = be.toDoubles(l.parameters().get("lstm.bias_ih_l1").value());
        for (int j = 0; j < 32; j++) assertEquals(j >= 8 && j < 16 ? 1.0 : 0.0, bih[j]);
    }

    /** A checkpoint (safetensors by name, tied head stored once) loads back into the same model. */
    @ParameterizedTest
    @ValueSource(strings = {"mamba", "lstm-wide", "hybrid-all"})
    void checkpointRoundTrip(String kind, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Backend be = new CpuBackend();
        ModelConfig mc = config(kind, 16);
        LanguageModel m = ModelFactory.create(mc, 30, be, 4);
        jiggle(m, 6);
        parrot.train.Checkpoint.save(dir, m, mc, parrot.config.TaskConfig.defaults(), null);
        LanguageModel back = parrot.train.Checkpoint.load(dir, be).model();
        int[] in = {1, 2, 3, 4, 5, 6, 7, 8};
        assertClose(kind + " logits after reload", be.toDoubles(m.forward(in, 2, 4)), be.toDoubles(back.forward(in, 2, 4)), 0, 1);
        assertEquals(m.parameters().count(), back.parameters().count());
    }

    private static java.util.List<Integer> shape(LanguageModel m, String name) {
        return java.util.Arrays.stream(m.parameters().get(name).shape()).boxed().toList();
    }
}
