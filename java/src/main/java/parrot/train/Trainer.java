package parrot.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.AdamWParams;
import parrot.backend.Backend;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.config.TrainConfig;
import parrot.data.Batch;
import parrot.data.Batcher;
import parrot.data.Task;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.results.LossPoint;

import java.util.ArrayList;
import java.util.List;

/**
 * The training loop: a fresh seeded batch each step (a pure function of seed and step), forward, masked loss,
 * backward, clip, AdamW, schedule. Everything random comes from the experiment seed, so two runs with the
 * same config produce bitwise the same losses on the CPU.
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    /** Called after every step; for progress display. */
    public interface Listener {
        void onStep(int step, int total, double loss, double lr, double tokensPerSecond);
    }

    /** What a finished run hands on to evaluation and results. */
    public record Outcome(LanguageModel model, List<LossPoint> lossCurve, double finalLoss, double trainSeconds,
                          double tokensPerSecond) {
    }

    private final ExperimentConfig exp;
    private final ModelConfig mc;
    private final Backend be;
    private final Task task;
    private final Listener listener;

    public Trainer(ExperimentConfig exp, ModelConfig mc, Backend be, Task task, Listener listener) {
        this.exp = exp;
        this.mc = mc;
        this.be = be;
        this.task = task;
        this.listener = listener;
    }

    /** Model weights depend on the experiment seed and the model's name, not on its position in the list. */
    public static long modelSeed(long seed, String modelName) {
        return seed * 0x9E3779B97F4A7C15L + modelName.hashCode();
    }

    static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }

    public Outcome run() {
        TrainConfig t = exp.train();
        LanguageModel model = ModelFactory.create(mc, task.vocab().size(), be, modelSeed(exp.seed(), mc.name()));
        Optimizer opt = new Optimizer(be, model.parameters().list(), new AdamWParams(t.beta1(), t.beta2(), t.eps()),
                t.weightDecay(), t.clip());
        LrSchedule schedule = LrSchedule.of(t);
        Batcher batcher = new Batcher(task, exp.task().lengths().lo(), exp.task().lengths().hi(), t.batchSize(),
                t.context(), exp.seed());
        log.info("training {} ({} parameters) on {} for {} steps, batch {} × {} tokens", mc.name(),
                model.parameters().count(), be.name(), t.steps(), t.batchSize(), t.context());

        List<LossPoint> curve = new ArrayList<>();
        long tokensPerStep = (long) t.batchSize() * t.context();
        long start = System.nanoTime(), windowStart = start;
        double windowLoss = 0, lastLoss = Double.NaN;
        int windowSteps = 0;
        for (int step = 1; step <= t.steps(); step++) {
            Batch batch = batcher.batch(step - 1);
            double loss = model.forwardBackward(batch.inputs(), batch.targets(), t.batchSize(), t.context());
            if (!Double.isFinite(loss))
                throw new IllegalStateException("loss is " + loss + " at step " + step + " of " + mc.name()
                        + " (lower train.lr or check the data)");
            double lr = schedule.at(step);
            double gradNorm = opt.step(lr);
            windowLoss += loss;
            windowSteps++;
            lastLoss = loss;
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (listener != null) listener.onStep(step, t.steps(), loss, lr, tokensPerStep * step / elapsed);
            if (step % t.logEvery() == 0 || step == t.steps()) {
                long now = System.nanoTime();
                double tps = tokensPerStep * windowSteps / ((now - windowStart) / 1e9);
                LossPoint p = new LossPoint(step, windowLoss / windowSteps, lr, gradNorm, tps);
                curve.add(p);
                // Without a progress bar (not a terminal) the log is the progress: at INFO, with an ETA.
                String line = String.format("%s step %d/%d loss %.4f lr %.2e grad-norm %.3f %,.0f tokens/s ETA %s",
                        mc.name(), step, t.steps(), p.loss(), lr, gradNorm, tps,
                        eta((t.steps() - step) * (double) tokensPerStep / tps));
                if (listener == null) log.info(line);
                else log.debug(line);
                windowLoss = 0;
                windowSteps = 0;
                windowStart = now;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Outcome(model, curve, lastLoss, seconds, tokensPerStep * t.steps() / seconds);
    }
}
