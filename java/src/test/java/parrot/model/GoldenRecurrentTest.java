package parrot.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.Fixtures;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static parrot.Fixtures.assertClose;
import static parrot.Fixtures.doubles;
import static parrot.Fixtures.ints;

/**
 * Mamba and LSTM models and the selective scan, conv1d and RMSNorm ops against PyTorch float64
 * (scripts/make_fixtures.py: mamba_ssm's selective_scan_ref semantics, torch.nn.LSTM): 1e-5 relative on the
 * float64 backend, a float32-sized bound on the float32 one.
 */
class GoldenRecurrentTest {
    static ModelConfig configOf(String fixture, JsonNode c) {
        String json = fixture.equals("lstm")
                ? "{\"name\": \"golden\", \"family\": \"lstm\", \"d_model\": " + c.get("d_model").asInt()
                + ", \"n_layers\": " + c.get("n_layers").asInt() + ", \"lstm_hidden\": " + c.get("lstm_hidden").asInt() + "}"
                : "{\"name\": \"golden\", \"family\": \"mamba\", \"d_model\": " + c.get("d_model").asInt()
                + ", \"n_layers\": " + c.get("n_layers").asInt() + ", \"d_state\": " + c.get("d_state").asInt()
                + ", \"d_conv\": " + c.get("d_conv").asInt() + ", \"expand\": " + c.get("expand").asInt()
                + ", \"dt_rank\": " + c.get("dt_rank").asInt() + ", \"norm\": \"" + c.get("norm").asText()
                + "\", \"layer_norm_eps\": " + c.get("layer_norm_eps").asDouble() + "}";
        return ConfigLoader.parseModel(json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba", "mamba-rms", "lstm"})
    void float64MatchesPyTorch(String fixture) {
        // chunk 4 on 9 steps: the scan's backward recomputes states across chunk boundaries
        check(fixture, new parrot.backend.cpu.f64.CpuBackend(4), 1e-5);
        check(fixture, new parrot.backend.cpu.f64.CpuBackend(), 1e-5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba", "mamba-rms", "lstm"})
    void float32MatchesPyTorch(String fixture) {
        check(fixture, new CpuBackend(), 2e-3);
    }

    private void check(String fixture, Backend be, double rel) {
        JsonNode fx = Fixtures.read(fixture + ".json");
        JsonNode c = fx.get("config");
        int b = c.get("batch").asInt(), t = c.get("seq_len").asInt();
        LanguageModel m = ModelFactory.create(configOf(fixture, c), c.get("vocab").asInt(), be, 0);
        for (Parameter p : m.parameters().list()) {
            JsonNode v = fx.get("params").get(p.name());
            if (v == null) throw new AssertionError(fixture + ": fixture has no " + p.name());
            assertEquals(java.util.Arrays.toString(p.shape()), java.util.Arrays.toString(Fixtures.shape(v)), p.name());
            be.upload(p.value(), doubles(v));
        }
        assertEquals(fx.get("params").size(), m.parameters().list().size(), "parameter count");
        double loss = m.forwardBackward(ints(fx.get("inputs")), ints(fx.get("targets")), b, t);
        assertClose(fixture + " loss", new double[]{fx.get("loss").asDouble()}, new double[]{loss}, rel, 1e-2);
        for (Parameter p : m.parameters().list())
            assertClose(fixture + " grad " + p.name(), doubles(fx.get("grads").get(p.name())), be.toDoubles(p.grad()), rel, 1e-2);
        assertClose(fixture + " logits", doubles(fx.get("logits")), be.toDoubles(m.forward(ints(fx.get("inputs")), b, t)), rel, 1e-2);
    }

    private static Tensor load(Backend be, JsonNode n) {
        if (n == null) return null;
        Tensor t = be.zeros(Fixtures.shape(n));
        be.upload(t, doubles(n));
        return t;
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "bare", "z-only"})
    void scanMatchesSelectiveScanRef(String name) {
        JsonNode s = Fixtures.read("recurrent-ops.json").get("scan").get(name);
        for (int chunk : new int[]{3, 64}) {
            Backend be = new parrot.backend.cpu.f64.CpuBackend(chunk);
            int b = s.get("batch").asInt(), t = s.get("seq_len").asInt(), d = s.get("dim").asInt(), n = s.get("d_state").asInt();
            boolean sp = s.get("softplus").asBoolean();
            Tensor u = load(be, s.get("u")), delta = load(be, s.get("delta")), a = load(be, s.get("A"));
            Tensor bm = load(be, s.get("B")), cm = load(be, s.get("C")), dS = load(be, s.get("D")), z = load(be, s.get("z"));
            Tensor bias = load(be, s.get("delta_bias")), dout = load(be, s.get("dout"));
            Tensor out = be.zeros(b * t, d), ckpt = be.zeros(b, be.scanChunks(t), d, n);
            be.scanForward(out, ckpt, u, delta, a, bm, cm, dS, z, bias, sp, b, t);
            assertClose(name + " out", doubles(s.get("out")), be.toDoubles(out), 1e-5, 1e-2);
            Tensor du = be.zeros(b * t, d), dd = be.zeros(b * t, d), dA = be.zeros(d, n), dB = be.zeros(b * t, n);
            Tensor dC = be.zeros(b * t, n), gD = dS == null ? null : be.zeros(d), gZ = z == null ? null : be.zeros(b * t, d);
            Tensor gBias = bias == null ? null : be.zeros(d);
            be.scanBackward(du, dd, dA, dB, dC, gD, gZ, gBias, dout, ckpt, u, delta, a, bm, cm, dS, z, bias, sp, b, t);
            assertClose(name + " du", doubles(s.get("du")), be.toDoubles(du), 1e-5, 1e-2);
            assertClose(name + " ddelta", doubles(s.get("ddelta")), be.toDoubles(dd), 1e-5, 1e-2);
            assertClose(name + " dA", doubles(s.get("dA")), be.toDoubles(dA), 1e-5, 1e-2);
            assertClose(name + " dB", doubles(s.get("dB")), be.toDoubles(dB), 1e-5, 1e-2);
            assertClose(name + " dC", doubles(s.get("dC")), be.toDoubles(dC), 1e-5, 1e-2);
            if (gD != null) assertClose(name + " dD", doubles(s.get("dD")), be.toDoubles(gD), 1e-5, 1e-2);
            if (gZ != null) assertClose(name + " dz", doubles(s.get("dz")), be.toDoubles(gZ), 1e-5, 1e-2);
            if (gBias != null) assertClose(name + " ddelta_bias", doubles(s.get("ddelta_bias")), be.toDoubles(gBias), 1e-5, 1e-2);
        }
    }

    @Test
    void conv1dMatchesPyTorch() {
        JsonNode s = Fixtures.read("recurrent-ops.json").get("conv1d");
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        int b = s.get("batch").asInt(), t = s.get("seq_len").asInt(), ch = s.get("channels").asInt(), k = s.get("kernel").asInt();
        Tensor in = load(be, s.get("input")), w = load(be, s.get("weight")), bias = load(be, s.get("bias"));
        Tensor out = be.zeros(b * t, ch), din = be.zeros(b * t, ch), dw = be.zeros(ch, 1, k), db = be.zeros(ch);
        be.conv1dForward(out, in, w, bias, b, t);
        be.conv1dBackward(din, dw, db, load(be, s.get("dout")), in, w, b, t);
        assertClose("conv1d out", doubles(s.get("out")), be.toDoubles(out), 1e-5, 1e-2);
        assertClose("conv1d din", doubles(s.get("din")), be.toDoubles(din), 1e-5, 1e-2);
        assertClose("conv1d dweight", doubles(s.get("dweight")), be.toDoubles(dw), 1e-5, 1e-2);
        assertClose("conv1d dbias", doubles(s.get("dbias")), be.toDoubles(db), 1e-5, 1e-2);
    }

    @Test
    void rmsNormMatchesPyTorch() {
        JsonNode s = Fixtures.read("recurrent-ops.json").get("rmsnorm");
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        Tensor in = load(be, s.get("input")), w = load(be, s.get("weight"));
        int[] sh = Fixtures.shape(s.get("input"));
        Tensor out = be.zeros(sh), rstd = be.zeros(sh[0]), din = be.zeros(sh), dw = be.zeros(sh[1]);
        be.rmsNormForward(out, rstd, in, w, s.get("eps").asDouble());
        be.rmsNormBackward(din, dw, load(be, s.get("dout")), in, w, rstd);
        assertClose("rmsnorm out", doubles(s.get("out")), be.toDoubles(out), 1e-5, 1e-2);
        assertClose("rmsnorm rstd", doubles(s.get("rstd")), be.toDoubles(rstd), 1e-5, 1e-2);
        assertClose("rmsnorm din", doubles(s.get("din")), be.toDoubles(din), 1e-5, 1e-2);
        assertClose("rmsnorm dweight", doubles(s.get("dweight")), be.toDoubles(dw), 1e-5, 1e-2);
    }
}
