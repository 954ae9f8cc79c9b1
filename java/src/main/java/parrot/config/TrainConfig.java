package parrot.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Optimisation and bookkeeping. AdamW with warm-up then a decay to min_lr_ratio·lr; clip is the global gradient
 * norm (0 = off); checkpoint_every 0 saves only at the end (and on SIGTERM/SIGINT); eval_every N &gt; 0 evaluates
 * every N steps during training (accuracy against training examples seen), 0 = off: eval_samples strings at
 * each of eval_lengths (null: the task's training lengths, where the paper measures "examples needed to learn").
 * The probe is kept small (default {@value #DEFAULT_EVAL_SAMPLES} strings a length) because it runs many times;
 * the final evaluation uses eval.samples.
 */
public record TrainConfig(int steps, int batchSize, int context, double lr, int warmupSteps, String schedule,
                          double minLrRatio, double weightDecay, double beta1, double beta2, double eps, double clip,
                          int logEvery, int checkpointEvery, String device, int evalEvery, IntRange evalLengths,
                          int evalSamples) {
    public static final int DEFAULT_EVAL_SAMPLES = 20;
    public static final List<String> SCHEDULES = List.of("linear", "cosine", "constant");
    private static final Pattern DEVICE = Pattern.compile("auto|cpu|cuda(:\\d+)?");

    public TrainConfig {
        Check.atLeast("steps", steps, 1);
        Check.atLeast("batch_size", batchSize, 1);
        Check.atLeast("context", context, 1);
        Check.positive("lr", lr);
        Check.atLeast("warmup_steps", warmupSteps, 0);
        Check.oneOf("schedule", schedule, SCHEDULES);
        Check.inInterval("min_lr_ratio", minLrRatio, 0, 1, false, false);
        Check.nonNegative("weight_decay", weightDecay);
        Check.inInterval("beta1", beta1, 0, 1, false, true);
        Check.inInterval("beta2", beta2, 0, 1, false, true);
        Check.positive("eps", eps);
        Check.nonNegative("clip", clip);
        Check.atLeast("log_every", logEvery, 1);
        Check.atLeast("checkpoint_every", checkpointEvery, 0);
        Check.required("device", device);
        if (!DEVICE.matcher(device).matches())
            throw new ConfigException("device", "unknown value '" + device + "'; allowed: auto, cpu, cuda, cuda:N");
        Check.atLeast("eval_every", evalEvery, 0);
        if (evalLengths != null) evalLengths.check("eval_lengths", 1);
        Check.atLeast("eval_samples", evalSamples, 1);
    }

    /** The lengths the eval_every probe tests: eval_lengths, or the task's training lengths when unset. */
    public IntRange probeLengths(TaskConfig task) {
        return evalLengths != null ? evalLengths : task.lengths();
    }

    /** The fields of the first configs; eval_every off. */
    public TrainConfig(int steps, int batchSize, int context, double lr, int warmupSteps, String schedule,
                       double minLrRatio, double weightDecay, double beta1, double beta2, double eps, double clip,
                       int logEvery, int checkpointEvery, String device) {
        this(steps, batchSize, context, lr, warmupSteps, schedule, minLrRatio, weightDecay, beta1, beta2, eps, clip,
                logEvery, checkpointEvery, device, 0, null, DEFAULT_EVAL_SAMPLES);
    }

    public static TrainConfig defaults() {
        return new TrainConfig(1000, 32, 64, 1e-3, 100, "linear", 0.0, 0.1, 0.9, 0.999, 1e-8, 1.0, 50, 0, "auto", 0, null,
                DEFAULT_EVAL_SAMPLES);
    }
}
