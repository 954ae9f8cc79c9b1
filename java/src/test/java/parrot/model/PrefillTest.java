package parrot.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;

import java.util.Random;

/**
 * Batched prefill and LM-head skipping against plain stepping, on every model family parrot trains: the
 * transformer under each positional scheme (Hard-ALiBi windows shorter and longer than the prompt, partial
 * rotary), Mamba (LayerNorm and RMSNorm, d_conv 3 and 4), LSTM (hidden width ≠ d_model) and the hybrids.
 */
class PrefillTest {
    static final double REL = 1e-5;

    static ModelConfig transformer(String positional) {
        String extra = switch (positional) {
            case "rope" -> ", \"rotary_pct\": 0.25";
            case "hard-alibi" -> ", \"windows\": [1, 2, 5, 0]";
            default -> "";
        };
        return ConfigLoader.parseModel("{\"name\": \"p\", \"d_model\": 32, \"n_heads\": 4, \"n_layers\": 2, "
                + "\"init_std\": 0.2, \"positional\": \"" + positional + "\"" + extra + "}");
    }

    static int[][] prompts(int b, int len, int vocab, long seed) {
        Random r = new Random(seed);
        int[][] p = new int[b][len];
        for (int[] row : p) for (int i = 0; i < len; i++) row[i] = r.nextInt(vocab);
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"nope", "rope", "alibi", "hard-alibi"})
    void transformerPrefillEqualsStepping(String positional) {
        Backend be = new CpuBackend();
        LanguageModel m = ModelFactory.create(transformer(positional), 30, be, 11);
        PrefillCheck.assertPrefillMatchesStepping(positional, m, prompts(3, 13, 30, 5), 6, REL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba", "mamba-rms", "lstm", "lstm-wide", "hybrid", "hybrid-all"})
    void recurrentPrefillEqualsStepping(String kind) {
        Backend be = new CpuBackend();
        LanguageModel m = ModelFactory.create(RecurrentModelTest.config(kind, 32), 30, be, 11);
        RecurrentModelTest.jiggle(m, 2);
        PrefillCheck.assertPrefillMatchesStepping(kind, m, prompts(3, 13, 30, 5), 6, REL);
    }

    /** A one-token prompt (the conv window still mostly zeros) and a batch of one. */
    @Test
    void shortPromptsAndSingleSequences() {
        Backend be = new CpuBackend();
        LanguageModel mamba = ModelFactory.create(RecurrentModelTest.config("mamba", 16), 20, be, 3);
        RecurrentModelTest.jiggle(mamba, 4);
        PrefillCheck.assertPrefillMatchesStepping("mamba, 1 token", mamba, prompts(2, 1, 20, 1), 4, REL);
        PrefillCheck.assertPrefillMatchesStepping("mamba, 2 tokens", mamba, prompts(1, 2, 20, 2), 4, REL);
        LanguageModel rope = ModelFactory.create(transformer("rope"), 20, be, 3);
        PrefillCheck.assertPrefillMatchesStepping("rope, 1 token", rope, prompts(1, 1, 20, 3), 4, REL);
        PrefillCheck.assertRefusals(rope);
        PrefillCheck.assertRefusals(mamba);
    }

    /** A block without a prefill makes the decoder step through the prompt, with the same results. */
    @Test
    void blocksWithoutPrefillFallBackToStepping() {
        Backend be = new CpuBackend();
        LanguageModel m = ModelFactory.create(transformer("alibi"), 30, be, 11);
        int[][] p = prompts(2, 7, 30, 9);
        PrefillCheck.Run fast = PrefillCheck.decode(m, p, 3, PrefillCheck.Mode.PREFILL);
        Decoder d = m.decoder(2, 10);
        try {
            d.steps.replaceAll(s -> (y, x, pos) -> s.step(y, x, pos));   // the same steps, no prefill
            org.junit.jupiter.api.Assertions.assertFalse(d.canPrefill());
            float[] got = be.toFloats(d.prefill(p, 7, true));
            org.junit.jupiter.api.Assertions.assertEquals(7, d.position());
            float[] want = fast.logits().get(0);
            for (int i = 0; i < want.length; i++)
                org.junit.jupiter.api.Assertions.assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])));
        } finally {
            d.release();
        }
    }
}
