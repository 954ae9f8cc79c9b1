package parrot.train;

import org.junit.jupiter.api.Test;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.data.Task;
import parrot.data.Vocab;
import parrot.eval.Evaluator;
import parrot.eval.LengthResult;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every recurrent family trains end to end (batcher → model → AdamW) and then copies short strings by greedy
 * recurrent decoding: tiny models, copy lengths 1..4, a few hundred steps (each test well under a minute on
 * two cores; CPU training is bitwise deterministic, so the accuracies are fixed numbers, not luck).
 */
class CopyLearningTest {
    private static List<LengthResult> trainAndEvaluate(String model, int steps, double lr) {
        ExperimentConfig exp = ConfigLoader.parse("""
                {"name": "learn", "seed": 3,
                 "task": {"type": "copy", "alphabet": 26, "lengths": "1..4"},
                 "train": {"steps": %d, "batch_size": 16, "context": 32, "lr": %s, "warmup_steps": 30,
                           "log_every": 100},
                 "eval": {"lengths": "1..4", "samples": 50, "batch_size": 50},
                 "models": [%s]}
                """.formatted(steps, Double.toString(lr), model), List.of());
        Task task = Task.create("copy", new Vocab(26));
        try (CpuBackend be = new CpuBackend()) {
            Trainer.Outcome out = new Trainer(exp, exp.models().get(0), be, task, null).run();
            return new Evaluator(out.model(), task, 50, exp.seed()).evaluate(new int[]{1, 2, 3, 4}, 50, null);
        }
    }

    private static void assertLearned(String what, List<LengthResult> acc, double min) {
        for (LengthResult r : acc)
            assertTrue(r.stringAccuracy() >= min, () -> what + " copies length " + r.length() + " with accuracy "
                    + r.stringAccuracy() + " < " + min + ": " + acc);
    }

    @Test
    void mambaLearnsToCopy() {
        assertLearned("mamba", trainAndEvaluate("{\"name\": \"m\", \"family\": \"mamba\", \"d_model\": 32, \"n_layers\": 2}",
                400, 5e-3), 0.9);
    }

    @Test
    void lstmLearnsToCopy() {
        assertLearned("lstm", trainAndEvaluate("{\"name\": \"l\", \"family\": \"lstm\", \"d_model\": 64, \"n_layers\": 1}",
                1500, 1e-2), 0.9);
    }

    @Test
    void hybridLearnsToCopy() {
        assertLearned("hybrid", trainAndEvaluate("{\"name\": \"h\", \"family\": \"hybrid\", \"d_model\": 32, "
                + "\"blocks\": \"mamba,attn\", \"n_heads\": 4, \"positional\": \"nope\"}", 400, 5e-3), 0.9);
    }
}
