package parrot.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static parrot.Fixtures.assertClose;
import static parrot.Fixtures.doubles;
import static parrot.Fixtures.ints;

/**
 * The whole model (logits, loss, every parameter gradient) against PyTorch float64, for each positional scheme:
 * 1e-5 relative on the float64 backend, and a float32-sized bound on the float32 one.
 */
class GoldenModelTest {
    static ModelConfig configOf(JsonNode c) {
        StringBuilder json = new StringBuilder("{\"name\": \"golden\"");
        json.append(", \"d_model\": ").append(c.get("d_model").asInt());
        json.append(", \"n_heads\": ").append(c.get("n_heads").asInt());
        json.append(", \"n_layers\": ").append(c.get("n_layers").asInt());
        json.append(", \"intermediate_size\": ").append(c.get("intermediate_size").asInt());
        json.append(", \"layer_norm_eps\": ").append(c.get("layer_norm_eps").asDouble());
        String pos = c.get("positional").asText();
        json.append(", \"positional\": \"").append(pos).append('"');
        if (pos.equals("rope"))
            json.append(", \"rotary_pct\": ").append(c.get("rotary_pct").asDouble())
                    .append(", \"rope_base\": ").append(c.get("rope_base").asDouble());
        if (pos.equals("hard-alibi")) json.append(", \"windows\": ").append(c.get("windows").toString());
        return ConfigLoader.parseModel(json.append('}').toString());
    }

    static LanguageModel load(JsonNode fx, Backend be) {
        JsonNode c = fx.get("config");
        LanguageModel m = ModelFactory.create(configOf(c), c.get("vocab").asInt(), be, 0);
        for (Parameter p : m.parameters().list()) be.upload(p.value(), doubles(fx.get("params").get(p.name())));
        assertEquals(fx.get("params").size(), m.parameters().list().size(), "parameter count");
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"nope", "rope", "rope-half", "alibi", "hard-alibi", "hard-alibi-custom"})
    void float64MatchesPyTorch(String scheme) {
        check(scheme, new parrot.backend.cpu.f64.CpuBackend(), 1e-5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nope", "rope", "alibi", "hard-alibi"})
    void float32MatchesPyTorch(String scheme) {
        check(scheme, new CpuBackend(), 2e-3);
    }

    private void check(String scheme, Backend be, double rel) {
        JsonNode fx = parrot.Fixtures.read(scheme + ".json");
        JsonNode c = fx.get("config");
        int b = c.get("batch").asInt(), t = c.get("seq_len").asInt();
        LanguageModel m = load(fx, be);
        double loss = m.forwardBackward(ints(fx.get("inputs")), ints(fx.get("targets")), b, t);
        assertClose(scheme + " logits", doubles(fx.get("logits")), be.toDoubles(m.forward(ints(fx.get("inputs")), b, t)), rel, 1e-2);
        assertClose(scheme + " loss", new double[]{fx.get("loss").asDouble()}, new double[]{loss}, rel, 1e-2);
        for (Parameter p : m.parameters().list())
            assertClose(scheme + " grad " + p.name(), doubles(fx.get("grads").get(p.name())), be.toDoubles(p.grad()), rel, 1e-2);
    }
}
