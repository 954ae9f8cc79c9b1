package parrot.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** float64 finite differences of the whole model's loss against backward, every parameter element, per scheme. */
class ModelGradientTest {
    static ModelConfig tiny(String positional) {
        String extra = switch (positional) {
            case "rope" -> ", \"rotary_pct\": 0.5";
            case "hard-alibi" -> ", \"windows\": [2, 0]";
            default -> "";
        };
        return ConfigLoader.parseModel("{\"name\": \"tiny\", \"d_model\": 8, \"n_heads\": 2, \"n_layers\": 2, "
                + "\"init_std\": 0.3, \"positional\": \"" + positional + "\"" + extra + "}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nope", "rope", "alibi", "hard-alibi"})
    void wholeModel(String positional) {
        Backend be = new parrot.backend.cpu.f64.CpuBackend();
        LanguageModel m = ModelFactory.create(tiny(positional), 12, be, 3);
        int b = 2, t = 6;
        int[] in = {1, 4, 2, 7, 7, 3, 0, 11, 5, 5, 9, 2};
        int[] tg = {4, 2, -1, 7, 3, 0, 11, -1, 5, 9, 2, 6};
        ModelGradCheck.assertGradientsMatch(positional, m, in, tg, b, t, 1e-6);
    }
}
