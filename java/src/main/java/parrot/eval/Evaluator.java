package parrot.eval;

import parrot.data.Example;
import parrot.data.Rng;
import parrot.data.Task;
import parrot.model.Decoder;
import parrot.model.LanguageModel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Greedy autoregressive evaluation: feed each example's prompt, let the model write the answer with its own
 * tokens, and score exact match of the answer characters (EOS excluded) and per-character accuracy.
 * Evaluation lengths and contexts are independent of training: the decoder is sized to each example.
 */
public final class Evaluator {
    /** Stream id that keeps evaluation samples apart from training batches of the same seed. */
    private static final long EVAL_STREAM = 0x65_76_61_6cL;

    /** Writes the answers (answer length + EOS tokens) of examples that share prompt and answer lengths. */
    public interface Generator {
        int[][] generate(List<Example> batch);
    }

    private final LanguageModel model;
    private final Generator generator;
    private final Task task;
    private final int batchSize;
    private final long seed;

    public Evaluator(LanguageModel model, Task task, int batchSize, long seed) {
        this.model = model;
        this.generator = this::generate;
        this.task = task;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** Scores another writer of answers the same way (tests use an oracle; any model could plug in here). */
    public Evaluator(Generator generator, Task task, int batchSize, long seed) {
        this.model = null;
        this.generator = generator;
        this.task = task;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** The evaluation examples at one length: a pure function of (seed, length). */
    public List<Example> examples(int length, int samples) {
        Rng rng = Rng.derive(seed, EVAL_STREAM, length);
        List<Example> out = new ArrayList<>(samples);
        for (int i = 0; i < samples; i++) out.add(task.sample(rng, length));
        return out;
    }

    public List<LengthResult> evaluate(int[] lengths, int samples, IntConsumer progress) {
        List<LengthResult> out = new ArrayList<>();
        for (int len : lengths) {
            out.add(score(len, examples(len, samples)));
            if (progress != null) progress.accept(len);
        }
        return out;
    }

    public LengthResult score(int length, List<Example> examples) {
        // Examples that share prompt and answer lengths decode in lockstep.
        Map<Long, List<Example>> groups = new LinkedHashMap<>();
        for (Example e : examples)
            groups.computeIfAbsent(((long) e.answerStart() << 32) | e.tokens().length, k -> new ArrayList<>()).add(e);
        int strings = 0, chars = 0, charTotal = 0;
        for (List<Example> group : groups.values()) {
            for (int from = 0; from < group.size(); from += batchSize) {
                List<Example> batch = group.subList(from, Math.min(group.size(), from + batchSize));
                int[][] written = generator.generate(batch);
                for (int b = 0; b < batch.size(); b++) {
                    int[] answer = batch.get(b).answer();
                    boolean all = true;
                    for (int i = 0; i < answer.length; i++) {
                        if (written[b][i] == answer[i]) chars++;
                        else all = false;
                    }
                    charTotal += answer.length;
                    if (all) strings++;
                }
            }
        }
        return new LengthResult(length, examples.size(), (double) strings / examples.size(),
                charTotal == 0 ? 1.0 : (double) chars / charTotal);
    }

    /** Greedy answers (answer length + EOS tokens) for examples of equal prompt and answer length. */
    public int[][] generate(List<Example> batch) {
        Example first = batch.get(0);
        int promptLen = first.answerStart(), answerLen = first.tokens().length - promptLen;
        int[][] prompts = new int[batch.size()][];
        for (int b = 0; b < batch.size(); b++) prompts[b] = batch.get(b).prompt();
        Decoder d = model.decoder(batch.size(), promptLen + answerLen);
        try {
            d.feedPrompt(prompts);
            return d.greedy(answerLen);
        } finally {
            d.release();
        }
    }
}
