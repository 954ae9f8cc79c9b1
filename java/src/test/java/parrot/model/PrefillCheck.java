package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding a prompt three ways must agree: stepping every position with the LM head (the reference path), stepping
 * with the head skipped inside the prompt (the same arithmetic, so bitwise equal), and the batched prefill (GEMMs
 * over all positions, so equal within float32 rounding). Each then extends greedily; the greedy tokens must be the
 * same and every later step's logits close, which checks the caches and states prefill leaves behind.
 */
public final class PrefillCheck {
    private PrefillCheck() {
    }

    /** A small model of a kind PrefillTest covers ("rope", "hard-alibi", ... or a RecurrentModelTest kind), jiggled. */
    public static LanguageModel model(String kind, int vocab, Backend be, long seed) {
        boolean positional = java.util.List.of("nope", "rope", "alibi", "hard-alibi").contains(kind);
        LanguageModel m = ModelFactory.create(positional ? PrefillTest.transformer(kind) : RecurrentModelTest.config(kind, 32),
                vocab, be, seed);
        if (!positional) RecurrentModelTest.jiggle(m, seed + 1);
        return m;
    }

    public static int[][] prompts(int b, int len, int vocab, long seed) {
        return PrefillTest.prompts(b, len, vocab, seed);
    }

    /** Logits after the prompt and after each of n greedy tokens, [n + 1][batch·vocab], and the tokens. */
    public record Run(List<float[]> logits, int[][] tokens) {
    }

    enum Mode { STEP, SKIP_HEAD, PREFILL }

    static Run decode(LanguageModel m, int[][] prompts, int n, Mode mode) {
        Backend be = m.backend();
        int b = prompts.length, len = prompts[0].length;
        Decoder d = m.decoder(b, len + n);
        try {
            List<float[]> logits = new ArrayList<>();
            Tensor out = null;
            if (mode == Mode.PREFILL) {
                out = d.prefill(prompts, len, true);
            } else {
                int[] col = new int[b];
                for (int t = 0; t < len; t++) {
                    for (int s = 0; s < b; s++) col[s] = prompts[s][t];
                    boolean want = mode == Mode.STEP || t == len - 1;
                    out = d.feed(col, want);
                    if (!want) assertNull(out, "a feed without the head returns no logits");
                }
            }
            assertEquals(len, d.position());
            logits.add(be.toFloats(out));
            int[][] tokens = new int[b][n];
            for (int i = 0; i < n; i++) {
                int[] next = d.argmax();
                for (int s = 0; s < b; s++) tokens[s][i] = next[s];
                logits.add(be.toFloats(d.feed(next)));
            }
            return new Run(logits, tokens);
        } finally {
            d.release();
        }
    }

    /**
     * @param rel allowed |prefill − step| / max(1, |step|) per logit (float32 rounding of differently ordered sums)
     * @return the worst relative difference seen
     */
    public static double assertPrefillMatchesStepping(String what, LanguageModel m, int[][] prompts, int n, double rel) {
        Run step = decode(m, prompts, n, Mode.STEP);
        Run skip = decode(m, prompts, n, Mode.SKIP_HEAD);
        Run pre = decode(m, prompts, n, Mode.PREFILL);
        for (int i = 0; i < step.logits().size(); i++)
            assertArrayEquals(step.logits().get(i), skip.logits().get(i), what + ": head skipping changed the logits at step " + i);
        double worst = 0;
        for (int i = 0; i < step.logits().size(); i++) {
            float[] a = step.logits().get(i), p = pre.logits().get(i);
            assertEquals(a.length, p.length);
            for (int k = 0; k < a.length; k++)
                worst = Math.max(worst, Math.abs(a[k] - p[k]) / Math.max(1, Math.abs(a[k])));
        }
        final double w = worst;
        assertTrue(w <= rel, () -> what + ": prefill logits differ from stepping by " + w + " > " + rel);
        for (int s = 0; s < prompts.length; s++) {
            assertArrayEquals(step.tokens()[s], skip.tokens()[s], what + ": head skipping changed sequence " + s);
            assertArrayEquals(step.tokens()[s], pre.tokens()[s], what + ": prefill changed the greedy tokens of sequence " + s);
        }
        return worst;
    }

    /** Prefill refuses a decoder that has already moved and prompts that do not fit. */
    public static void assertRefusals(LanguageModel m) {
        Decoder d = m.decoder(1, 4);
        try {
            assertThrows(IllegalArgumentException.class, () -> d.prefill(new int[][]{{1, 2, 3, 4, 5}}, 5, true));
            assertThrows(IllegalArgumentException.class, () -> d.prefill(new int[][]{{1}}, 2, true));
            assertThrows(IllegalStateException.class, d::argmax, "no logits before anything was fed");
            d.feed(new int[]{1}, false);
            assertThrows(IllegalStateException.class, d::argmax, "no logits after a feed without the head");
            assertThrows(IllegalStateException.class, () -> d.prefill(new int[][]{{1, 2}}, 2, true));
        } finally {
            d.release();
        }
    }
}
