package parrot.eval.pretrained;

import parrot.data.Rng;
import parrot.hf.HfTokenizer;
import parrot.model.LanguageModel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs a pretrained task length by length: the prompts (a pure function of seed and length), batched greedy
 * decoding with early stops, the reference code's post-processing and scoring.
 */
public final class PretrainedEvaluator {
    /** Keeps evaluation streams apart from anything else seeded with the same number. */
    private static final long STREAM = 0x68_66_65_76L;

    /** One scored prompt (for logs and tests). */
    public record Scored(Example example, String generated, String prediction, boolean correct, double f1) {
    }

    private final LanguageModel model;
    private final HfTokenizer tok;
    private final PretrainedTask task;
    private final int batchSize, eos;
    private final long seed;
    private int longest;

    public PretrainedEvaluator(LanguageModel model, HfTokenizer tok, PretrainedTask task, int batchSize, int eos, long seed) {
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size: must be >= 1, got " + batchSize);
        this.model = model;
        this.tok = tok;
        this.task = task;
        this.batchSize = batchSize;
        this.eos = eos;
        this.seed = seed;
    }

    public List<PointResult> evaluate(int[] lengths, int samples, Consumer<PointResult> progress) {
        List<PointResult> out = new ArrayList<>();
        for (int len : lengths) {
            List<Example> ex = task.examples(len, samples, Rng.derive(seed, STREAM, len));
            PointResult p = summarize(len, score(ex));
            out.add(p);
            if (progress != null) progress.accept(p);
        }
        return out;
    }

    /** The longest prompt seen so far, in tokens. */
    public int longestPrompt() {
        return longest;
    }

    static PointResult summarize(int length, List<Scored> scored) {
        int right = 0;
        double f1 = 0;
        boolean hasF1 = false;
        for (Scored s : scored) {
            if (s.correct()) right++;
            if (!Double.isNaN(s.f1())) {
                hasF1 = true;
                f1 += s.f1();
            }
        }
        int n = scored.size();
        return new PointResult(length, n, n == 0 ? Double.NaN : (double) right / n, hasF1 ? f1 / n : null);
    }

    /** Decodes and scores the examples, batchSize at a time, longest prompts together. */
    public List<Scored> score(List<Example> examples) {
        List<int[]> ids = new ArrayList<>();
        for (Example e : examples) ids.add(tok.encode(e.prompt()));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) order.add(i);
        order.sort(Comparator.comparingInt((Integer i) -> -ids.get(i).length));
        Scored[] out = new Scored[examples.size()];
        String stop = task.stopText();
        for (int from = 0; from < order.size(); from += batchSize) {
            List<Integer> batch = order.subList(from, Math.min(order.size(), from + batchSize));
            int[][] prompts = new int[batch.size()][];
            int[] budget = new int[batch.size()];
            for (int b = 0; b < batch.size(); b++) {
                prompts[b] = ids.get(batch.get(b));
                budget[b] = examples.get(batch.get(b)).maxNew();
                longest = Math.max(longest, prompts[b].length);
            }
            int[][] gen = BatchGreedy.generate(model, prompts, budget, eos, task.suppressEosFirst(), (b, g, n) ->
                    // decode the whole continuation only when its last token brings a newline
                    tok.decode(g, n - 1, n).indexOf(stop.charAt(0)) >= 0 && tok.decode(g, 0, n).contains(stop));
            for (int b = 0; b < batch.size(); b++) {
                Example e = examples.get(batch.get(b));
                String text = tok.decode(gen[b]);
                String pred = task.prediction(text);
                out[batch.get(b)] = new Scored(e, text, pred, task.exactMatch(pred, e.answers()), task.f1(pred, e.answers()));
            }
        }
        return List.of(out);
    }
}
