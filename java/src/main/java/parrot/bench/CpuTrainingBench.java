package parrot.bench;

import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.data.Batch;
import parrot.data.Batcher;
import parrot.data.Task;
import parrot.data.Vocab;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.backend.AdamWParams;
import parrot.train.Optimizer;

import java.util.List;

/**
 * Training throughput of one fixed model (the calibration model of shared/calibration.md: GPT-NeoX d=64, 8
 * heads, 2 layers, Hard-ALiBi, batch 32 × 64 tokens): forward, backward and AdamW per step, timed after warm-up.
 */
public final class CpuTrainingBench {
    public static final String CONFIG = """
            {"name": "bench", "seed": 7,
             "task": {"type": "copy", "alphabet": 26, "lengths": "1..20"},
             "train": {"steps": 100, "batch_size": 32, "context": 64, "lr": 3e-3},
             "models": [{"name": "bench", "d_model": 64, "n_heads": 8, "n_layers": 2, "positional": "hard-alibi"}]}
            """;

    public record Result(String backend, int steps, long tokensPerStep, double seconds, double tokensPerSecond) {
    }

    private CpuTrainingBench() {
    }

    public static ExperimentConfig config() {
        return ConfigLoader.parse(CONFIG, List.of());
    }

    public static Result run(Backend be, int warmup, int steps) {
        ExperimentConfig exp = config();
        var t = exp.train();
        Task task = Task.create(exp.task().type(), new Vocab(exp.task().alphabet()));
        LanguageModel model = ModelFactory.create(exp.models().get(0), task.vocab().size(), be, 1);
        Optimizer opt = new Optimizer(be, model.parameters().list(), new AdamWParams(0.9, 0.999, 1e-8), 0.1, 1.0);
        Batcher batcher = new Batcher(task, 1, 20, t.batchSize(), t.context(), 1);
        long start = 0;
        for (int s = 0; s < warmup + steps; s++) {
            if (s == warmup) start = System.nanoTime();
            Batch b = batcher.batch(s);
            model.forwardBackward(b.inputs(), b.targets(), t.batchSize(), t.context());
            opt.step(1e-3);
        }
        double sec = (System.nanoTime() - start) / 1e9;
        long tps = (long) t.batchSize() * t.context();
        return new Result(be.name(), steps, tps, sec, tps * steps / sec);
    }
}
