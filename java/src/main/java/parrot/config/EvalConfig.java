package parrot.config;

import java.util.List;

/**
 * Evaluation sweep. Its context is sized from the lengths, not tied to training's (a pitfall of the reference
 * code, where testing at 1000 forced training rows over 2000 tokens).
 *
 * @param lengths   lengths to test, every one of them including hi
 * @param samples   strings per length (n of every accuracy)
 * @param batchSize strings decoded together
 * @param tasks     further tasks to evaluate the trained model on at the same lengths (e.g. copy with a
 *                  duplicated n-gram for n = 1..8); a field an entry leaves out is taken from the experiment's
 *                  {@code task}, and the vocabulary must be the training task's
 */
public record EvalConfig(IntRange lengths, int samples, int batchSize, List<TaskConfig> tasks) {
    /**
     * Strings per length by default: at n = 100 a 95% Wilson interval is at most ±0.10 wide (at 0.5) and
     * [0, 0.037] at 0/100; at the old 20 it was ±0.21, too wide to rank models whose accuracies differ by 0.2.
     */
    public static final int DEFAULT_SAMPLES = 100;

    public EvalConfig {
        Check.required("lengths", lengths).check("lengths", 1);
        Check.atLeast("samples", samples, 1);
        Check.atLeast("batch_size", batchSize, 1);
        if (tasks == null) tasks = List.of();
        for (int i = 0; i < tasks.size(); i++)
            if (tasks.get(i) == null) throw new ConfigException("tasks[" + i + "]", "must be a task object, got null");
        tasks = List.copyOf(tasks);
    }

    public EvalConfig(IntRange lengths, int samples, int batchSize) {
        this(lengths, samples, batchSize, List.of());
    }

    public static EvalConfig defaults() {
        return new EvalConfig(new IntRange(1, 60), DEFAULT_SAMPLES, DEFAULT_SAMPLES);
    }
}
