package parrot.eval.pretrained;

import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.model.Decoder;
import parrot.model.LanguageModel;

import java.util.Arrays;

/**
 * Greedy decoding of a batch of prompts of different lengths, without padding: every sequence advances one position
 * per step, fed its own prompt token while it has one and its own last generated token after, so each row of the
 * KV cache or recurrent state only ever sees its own sequence and the result equals decoding it alone. A sequence
 * ends at its budget, at the end-of-text token (as Hugging Face's generate), or when {@link Stop} says its
 * prediction is settled; the batch ends when all have.
 *
 * <p>The positions every prompt has (up to the shortest prompt's length) run at once through {@link Decoder#prefill}
 * (GEMMs over the whole block of tokens); the rest step one position at a time, the LM head skipped at positions
 * where no sequence needs a prediction (inside the longer prompts).
 */
public final class BatchGreedy {
    /** Whether sequence b may stop after its n generated tokens gen[0..n). */
    public interface Stop {
        boolean settled(int b, int[] gen, int n);
    }

    private BatchGreedy() {
    }

    /**
     * @param eos             end-of-text id, or -1
     * @param suppressEosFirst the first generated token may not be eos (transformers' begin_suppress_tokens)
     * @return per sequence, exactly the generated tokens (eos included when it came)
     */
    public static int[][] generate(LanguageModel model, int[][] prompts, int[] maxNew, int eos, boolean suppressEosFirst,
                                   Stop stop) {
        return generate(model, prompts, maxNew, eos, suppressEosFirst, stop, true);
    }

    /**
     * fast false: the plain path, every position stepped with the head computed (what prefill and head skipping
     * must reproduce; the tests compare the two).
     */
    static int[][] generate(LanguageModel model, int[][] prompts, int[] maxNew, int eos, boolean suppressEosFirst,
                            Stop stop, boolean fast) {
        int batch = prompts.length;
        int steps = 0;
        for (int b = 0; b < batch; b++) {
            if (prompts[b].length == 0) throw new IllegalArgumentException("an empty prompt");
            steps = Math.max(steps, prompts[b].length + maxNew[b] - 1);
        }
        int[][] gen = new int[batch][];
        int[] count = new int[batch];
        boolean[] done = new boolean[batch];
        for (int b = 0; b < batch; b++) {
            gen[b] = new int[maxNew[b]];
            done[b] = maxNew[b] == 0;
        }
        if (allDone(done)) return empty(batch);
        int common = Integer.MAX_VALUE;
        for (int[] p : prompts) common = Math.min(common, p.length);
        if (!fast) common = 1;
        boolean wantFirst = !fast;
        for (int b = 0; b < batch; b++) wantFirst |= !done[b] && prompts[b].length == common;
        Backend be = model.backend();
        Decoder d = model.decoder(batch, Math.max(1, steps));
        try {
            // positions 0..common-1 at once; the shortest prompts end there, so their first prediction is wanted
            Tensor logits = fast ? d.prefill(prompts, common, wantFirst) : d.feed(column(prompts, 0), true);
            if (wantFirst) take(d, be, model, logits, prompts, common - 1, gen, count, done, maxNew, eos, suppressEosFirst, stop);
            int[] col = new int[batch];
            for (int pos = common; pos < steps && !allDone(done); pos++) {
                boolean want = false;
                for (int b = 0; b < batch; b++) {
                    int len = prompts[b].length;
                    col[b] = pos < len ? prompts[b][pos] : done[b] ? 0 : gen[b][pos - len];
                    want |= !done[b] && pos >= len - 1;
                }
                logits = d.feed(col, want || !fast);
                if (want) take(d, be, model, logits, prompts, pos, gen, count, done, maxNew, eos, suppressEosFirst, stop);
            }
        } finally {
            d.release();
        }
        int[][] out = new int[batch][];
        for (int b = 0; b < batch; b++) out[b] = Arrays.copyOf(gen[b], count[b]);
        return out;
    }

    /** Appends position pos's prediction to every live sequence whose prompt has ended by pos. */
    private static void take(Decoder d, Backend be, LanguageModel model, Tensor logits, int[][] prompts, int pos,
                             int[][] gen, int[] count, boolean[] done, int[] maxNew, int eos, boolean suppressEosFirst,
                             Stop stop) {
        int[] next = null;
        float[] all = null;
        for (int b = 0; b < prompts.length; b++) {
            if (done[b] || pos < prompts[b].length - 1) continue;
            if (next == null) next = d.argmax();
            int tok = next[b];
            if (suppressEosFirst && count[b] == 0 && tok == eos) {
                if (all == null) all = be.toFloats(logits);
                tok = argmaxExcept(all, b, model.vocab(), eos);
            }
            gen[b][count[b]++] = tok;
            if (count[b] == maxNew[b] || tok == eos || stop.settled(b, gen[b], count[b])) done[b] = true;
        }
    }

    private static int[] column(int[][] prompts, int t) {
        int[] col = new int[prompts.length];
        for (int b = 0; b < prompts.length; b++) col[b] = prompts[b][t];
        return col;
    }

    private static int[][] empty(int batch) {
        return new int[batch][0];
    }

    private static boolean allDone(boolean[] done) {
        for (boolean x : done) if (!x) return false;
        return true;
    }

    static int argmaxExcept(float[] logits, int row, int vocab, int skip) {
        int best = -1;
        for (int v = 0; v < vocab; v++) {
            if (v == skip) continue;
            if (best < 0 || logits[row * vocab + v] > logits[row * vocab + best]) best = v;
        }
        return best;
    }
}
