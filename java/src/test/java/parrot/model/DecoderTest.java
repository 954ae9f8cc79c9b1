package parrot.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;

import java.util.Random;

import static parrot.Fixtures.assertClose;

/**
 * Token-by-token decoding with the KV cache must give the logits of a full teacher-forced pass at every
 * position, for every scheme, including Hard-ALiBi windows shorter and longer than the sequence.
 */
class DecoderTest {
    @ParameterizedTest
    @ValueSource(strings = {"nope", "rope", "alibi", "hard-alibi"})
    void kvCacheDecodingEqualsFullForward(String positional) {
        String extra = switch (positional) {
            case "rope" -> ", \"rotary_pct\": 0.25";
            case "hard-alibi" -> ", \"windows\": [1, 2, 5, 0]";
            default -> "";
        };
        var mc = ConfigLoader.parseModel("{\"name\": \"d\", \"d_model\": 32, \"n_heads\": 4, \"n_layers\": 2, "
                + "\"init_std\": 0.2, \"positional\": \"" + positional + "\"" + extra + "}");
        Backend be = new CpuBackend();
        int vocab = 30, b = 3, t = 17;
        LanguageModel m = ModelFactory.create(mc, vocab, be, 11);
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
            for (int s = 0; s < b; s++)
                System.arraycopy(full, (s * t + pos) * vocab, expected, s * vocab, vocab);
            assertClose(positional + " position " + pos, expected, step, 1e-4, 1.0);
        }
    }
}
