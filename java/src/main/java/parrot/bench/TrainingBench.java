package parrot.bench;

import parrot.backend.AdamWParams;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.data.Batch;
import parrot.data.Batcher;
import parrot.data.Task;
import parrot.data.Vocab;
import parrot.model.FlopCount;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.train.Optimizer;

import java.util.List;

/**
 * Training throughput of one model: forward, backward, clipping and AdamW per step on the copy task, timed after
 * warm-up steps.
 */
public final class TrainingBench {
    /** The calibration model of shared/calibration.md: GPT-NeoX d=64, 8 heads, 2 layers, Hard-ALiBi, 32 × 64 tokens. */
    public static final String SMALL = """
            {"name": "bench-small", "seed": 7,
             "task": {"type": "copy", "alphabet": 26, "lengths": "1..20"},
             "train": {"steps": 100, "batch_size": 32, "context": 64, "lr": 3e-3},
             "models": [{"name": "small", "d_model": 64, "n_heads": 8, "n_layers": 2, "positional": "hard-alibi"}]}
            """;

    /** The paper's transformer (GPT-NeoX 12 × 1024, 16 heads, Hard-ALiBi) at its batch: 8 rows of 220 tokens. */
    public static final String PAPER = """
            {"name": "bench-paper", "seed": 7,
             "task": {"type": "copy", "alphabet": 26, "lengths": "1..100"},
             "train": {"steps": 100, "batch_size": 8, "context": 220, "lr": 1e-5},
             "models": [{"name": "paper", "d_model": 1024, "n_heads": 16, "n_layers": 12, "positional": "hard-alibi"}]}
            """;

    /** The quickstart's Mamba (experiments/quickstart.json): 2 layers, d_model 64, same task and batch as SMALL. */
    public static final String MAMBA = """
            {"name": "bench-mamba", "seed": 7,
             "task": {"type": "copy", "alphabet": 26, "lengths": "1..20"},
             "train": {"steps": 100, "batch_size": 32, "context": 64, "lr": 3e-3},
             "models": [{"name": "mamba", "family": "mamba", "d_model": 64, "n_layers": 2}]}
            """;

    /** The quickstart's LSTM: 1 layer, d_model 64, same task and batch as SMALL. */
    public static final String LSTM = """
            {"name": "bench-lstm", "seed": 7,
             "task": {"type": "copy", "alphabet": 26, "lengths": "1..20"},
             "train": {"steps": 100, "batch_size": 32, "context": 64, "lr": 3e-3},
             "models": [{"name": "lstm", "family": "lstm", "d_model": 64, "n_layers": 1}]}
            """;

    /**
     * @param flopsPerToken   the model's counted forward + backward FLOPs per training token ({@link FlopCount})
     * @param flopsPerSecond  flopsPerToken × tokensPerSecond
     * @param flopsByPart     flopsPerToken by part (linear, attention, scan, ...)
     * @param heapBytesPerStep Java heap allocated per timed step by all threads (−1 where the JVM does not count it).
     *                         The CPU kernels allocate a few MB a step of scratch; tens of MB mean that C2 left Vector
     *                         API calls as their boxed Java fallbacks somewhere (see the README, "CPU speed").
     */
    public record Result(String model, String family, String backend, long parameters, int steps, long tokensPerStep,
                         double seconds, double tokensPerSecond, double flopsPerToken, double flopsPerSecond,
                         java.util.Map<String, Double> flopsByPart, double heapBytesPerStep) {
    }

    /** Bytes allocated so far by the live threads, or −1 where the JVM does not count them. */
    static long allocatedBytes() {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!(mx instanceof com.sun.management.ThreadMXBean t) || !t.isThreadAllocatedMemorySupported()
                || !t.isThreadAllocatedMemoryEnabled()) return -1;
        long sum = 0;
        for (long b : t.getThreadAllocatedBytes(t.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }

    private TrainingBench() {
    }

    public static Result run(Backend be, String configJson, int warmup, int steps) {
        return run(be, configJson, warmup, steps, () -> {
        });
    }

    /** As {@link #run(Backend, String, int, int)}, calling atStart when the timed steps begin (after the warm-up). */
    public static Result run(Backend be, String configJson, int warmup, int steps, Runnable atStart) {
        ExperimentConfig exp = ConfigLoader.parse(configJson, List.of());
        var t = exp.train();
        Task task = Task.create(exp.task().type(), new Vocab(exp.task().alphabet()));
        LanguageModel model = ModelFactory.create(exp.models().get(0), task.vocab().size(), be, 1);
        Optimizer opt = new Optimizer(be, model.parameters().list(), new AdamWParams(0.9, 0.999, 1e-8), 0.1, 1.0);
        Batcher batcher = new Batcher(task, exp.task().lengths().lo(), exp.task().lengths().hi(), t.batchSize(),
                t.context(), 1);
        long start = 0, heap0 = 0;
        for (int s = 0; s < warmup + steps; s++) {
            if (s == warmup) {
                be.synchronize();
                atStart.run();
                heap0 = allocatedBytes();
                start = System.nanoTime();
            }
            Batch b = batcher.batch(s);
            model.forwardBackward(b.inputs(), b.targets(), t.batchSize(), t.context());
            opt.step(1e-4);
        }
        be.synchronize();
        double sec = (System.nanoTime() - start) / 1e9;
        long heap1 = allocatedBytes();
        double heapPerStep = heap0 < 0 || heap1 < 0 || steps == 0 ? -1 : (double) (heap1 - heap0) / steps;
        long tps = (long) t.batchSize() * t.context();
        FlopCount.Count flops = FlopCount.of(exp.models().get(0), task.vocab().size(), t.context());
        double perToken = flops.perToken();
        double tokS = tps * steps / sec;
        return new Result(exp.models().get(0).name(), exp.models().get(0).family(), be.name(),
                model.parameters().count(), steps, tps, sec, tokS, perToken, perToken * tokS,
                flops.totals(), heapPerStep);
    }
}
