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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingTest {
    static ExperimentConfig config(String positional, int steps, String... sets) {
        String json = """
                {"name": "t", "seed": 3,
                 "task": {"type": "copy", "lengths": "1..5"},
                 "train": {"steps": %d, "batch_size": 32, "context": 32, "lr": 3e-3, "warmup_steps": 30, "log_every": 10},
                 "eval": {"lengths": "1..5", "samples": 40},
                 "models": [{"name": "m", "d_model": 64, "n_heads": 8, "n_layers": 2, "positional": "%s"}]}
                """.formatted(steps, positional);
        return ConfigLoader.parse(json, List.of(sets));
    }

    static Trainer.Outcome train(ExperimentConfig exp) {
        Task task = Task.create("copy", new Vocab(exp.task().alphabet()));
        return new Trainer(exp, exp.models().get(0), new CpuBackend(), task, null).run();
    }

    @Test
    void sameSeedGivesBitwiseTheSameLosses() {
        ExperimentConfig exp = config("rope", 25);
        Trainer.Outcome a = train(exp), b = train(exp);
        assertEquals(a.lossCurve().size(), b.lossCurve().size());
        for (int i = 0; i < a.lossCurve().size(); i++)
            assertEquals(Double.doubleToLongBits(a.lossCurve().get(i).loss()), Double.doubleToLongBits(b.lossCurve().get(i).loss()),
                    "loss at point " + i);
        assertEquals(Double.doubleToLongBits(a.finalLoss()), Double.doubleToLongBits(b.finalLoss()));
        Trainer.Outcome c = train(config("rope", 25, "seed=4"));
        assertTrue(c.finalLoss() != a.finalLoss(), "another seed must give other losses");
    }

    @Test
    void smallTransformerLearnsToCopy() {
        ExperimentConfig exp = config("hard-alibi", 600);
        Trainer.Outcome out = train(exp);
        Task task = Task.create("copy", new Vocab(26));
        List<LengthResult> acc = new Evaluator(out.model(), task, 40, exp.seed()).evaluate(new int[]{1, 2, 3, 4, 5}, 40, null);
        for (LengthResult r : acc)
            assertTrue(r.stringAccuracy() >= 0.95, "string accuracy at length " + r.length() + " is " + r.stringAccuracy()
                    + " after " + exp.train().steps() + " steps (final loss " + out.finalLoss() + ")");
    }
}
