package parrot.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.AdamWParams;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.config.TrainConfig;
import parrot.data.Batch;
import parrot.data.Batcher;
import parrot.data.Task;
import parrot.eval.LengthResult;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.model.Parameter;
import parrot.results.EvalPoint;
import parrot.results.LossPoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The training loop: a fresh seeded batch each step (a pure function of seed and step), forward, masked loss,
 * backward, clip, AdamW, schedule. Everything random comes from the experiment seed, so two runs with the
 * same config produce bitwise the same losses on the CPU — and so does a run stopped, checkpointed and resumed
 * (the checkpoint holds weights, AdamW moments and step, and the loss-curve point in progress).
 *
 * <p>Optional, set before {@link #run}: {@link #checkpointTo} (every train.checkpoint_every steps, at a stop
 * request and at the end), {@link #resumeFrom}, {@link #probe} (evaluation every train.eval_every steps) and
 * {@link #stopWhen} (checked after each step; SIGTERM/SIGINT through {@link StopSignal}).
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    /** Called after every step; for progress display. */
    public interface Listener {
        void onStep(int step, int total, double loss, double lr, double tokensPerSecond);
    }

    /** Evaluation during training: accuracy by length of the model as it is after {@code step}. */
    public interface Probe {
        List<LengthResult> evaluate(LanguageModel model, int step);
    }

    /** Test hook: runs after backward, before the non-finite checks and the optimizer step. */
    interface AfterBackward {
        void accept(int step, LanguageModel model);
    }

    /**
     * What a run hands on to evaluation and results. {@code stopped}: a stop request ended it before the last
     * step (a checkpoint holds where it stood); {@code stepsDone}: the optimizer steps taken in total.
     */
    public record Outcome(LanguageModel model, List<LossPoint> lossCurve, double finalLoss, double trainSeconds,
                          double tokensPerSecond, List<EvalPoint> evalCurve, long examplesSeen, int stepsDone,
                          boolean stopped) {
    }

    private final ExperimentConfig exp;
    private final ModelConfig mc;
    private final Backend be;
    private final Task task;
    private final Listener listener;
    private Path checkpointDir;
    private Checkpoint.Resumable resume;
    private Probe probe;
    private BooleanSupplier stop = () -> false;
    private AfterBackward afterBackward;
    private Checkpoint.Sink sink = Checkpoint.Sink.DIRECT;

    public Trainer(ExperimentConfig exp, ModelConfig mc, Backend be, Task task, Listener listener) {
        this.exp = exp;
        this.mc = mc;
        this.be = be;
        this.task = task;
        this.listener = listener;
    }

    /** Writes checkpoints into this directory (usually runs/&lt;experiment&gt;/&lt;model&gt;/checkpoint). */
    public Trainer checkpointTo(Path dir) {
        this.checkpointDir = dir;
        return this;
    }

    /** Continues from a checkpoint written by the same experiment and model config. */
    public Trainer resumeFrom(Checkpoint.Resumable r) {
        if (r != null) {
            if (!ConfigLoader.toJson(r.experiment()).equals(ConfigLoader.toJson(exp)))
                throw new IllegalArgumentException("checkpoint " + r.dir() + " was written by another experiment config"
                        + " than the one being trained; resume with its own config (parrot train --resume DIR)");
            if (!ConfigLoader.toJson(r.model()).equals(ConfigLoader.toJson(mc)))
                throw new IllegalArgumentException("checkpoint " + r.dir() + " holds model " + r.model().name()
                        + " with another config than " + mc.name());
        }
        this.resume = r;
        return this;
    }

    public Trainer probe(Probe p) {
        this.probe = p;
        return this;
    }

    public Trainer stopWhen(BooleanSupplier s) {
        this.stop = s == null ? () -> false : s;
        return this;
    }

    Trainer afterBackward(AfterBackward hook) {
        this.afterBackward = hook;
        return this;
    }

    Trainer sink(Checkpoint.Sink s) {
        this.sink = s;
        return this;
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

        List<LossPoint> curve = new ArrayList<>();
        List<EvalPoint> evalCurve = new ArrayList<>();
        int first = 1;
        long examples = 0;
        double windowLoss = 0, lastLoss = Double.NaN, priorSeconds = 0;
        int windowSteps = 0;
        if (resume != null) {
            Checkpoint.restore(resume, model, opt);
            Checkpoint.TrainState s = resume.state();
            first = s.step() + 1;
            examples = s.examplesSeen();
            windowLoss = s.windowLoss();
            windowSteps = s.windowSteps();
            lastLoss = s.lastLoss();
            priorSeconds = s.trainSeconds();
            curve.addAll(s.lossCurve());
            evalCurve.addAll(s.evalCurve());
            log.info("resuming {} from {} at step {}/{} ({} examples seen)", mc.name(), resume.dir(), s.step(), t.steps(), examples);
        } else {
            log.info("training {} ({} parameters) on {} for {} steps, batch {} × {} tokens", mc.name(),
                    model.parameters().count(), be.name(), t.steps(), t.batchSize(), t.context());
            log.info("{}: resolved model config {}", mc.name(), ConfigLoader.toJson(mc).replaceAll("\\s+", " "));
        }

        long tokensPerStep = (long) t.batchSize() * t.context();
        long start = System.nanoTime(), windowStart = start;
        int lastSaved = first - 1;
        for (int step = first; step <= t.steps(); step++) {
            Batch batch = batcher.batch(step - 1);
            double loss = model.forwardBackward(batch.inputs(), batch.targets(), t.batchSize(), t.context());
            if (afterBackward != null) afterBackward.accept(step, model);
            double lr = schedule.at(step);
            double gradNorm;
            try {
                if (!Double.isFinite(loss)) throw locateNonFiniteLoss(model, loss);
                gradNorm = opt.step(lr);
                checkWeights(model);
            } catch (NonFiniteException e) {
                throw e.at(step, " of " + mc.name() + " (lower train.lr or check the data); "
                        + (checkpointDir != null && lastSaved > 0 ? "the last good checkpoint, step " + lastSaved + ", is "
                        + checkpointDir : "no checkpoint was written"));
            }
            examples += batch.examples();
            windowLoss += loss;
            windowSteps++;
            lastLoss = loss;
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (listener != null) listener.onStep(step, t.steps(), loss, lr, tokensPerStep * (step - first + 1) / elapsed);
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
            if (probe != null && t.evalEvery() > 0 && (step % t.evalEvery() == 0 || step == t.steps()))
                evalCurve.add(new EvalPoint(step, examples, probe.evaluate(model, step)));
            boolean stopping = step < t.steps() && stop.getAsBoolean();
            boolean periodic = t.checkpointEvery() > 0 && step % t.checkpointEvery() == 0;
            double seconds = priorSeconds + (System.nanoTime() - start) / 1e9;
            if (checkpointDir != null && (step == t.steps() || periodic || stopping)) {
                Checkpoint.save(checkpointDir, exp, mc, model, opt, new Checkpoint.TrainState(step, examples, seconds,
                        lastLoss, windowLoss, windowSteps, curve, evalCurve), sink);
                lastSaved = step;
                log.debug("{}: checkpoint at step {} in {}", mc.name(), step, checkpointDir);
            }
            if (stopping) {
                log.warn("{}: stopped at step {}/{}{}", mc.name(), step, t.steps(),
                        checkpointDir != null ? "; resume with: parrot train --resume " + checkpointDir.getParent() : "");
                return new Outcome(model, curve, lastLoss, seconds, tokensPerStep * (step - first + 1) / ((System.nanoTime() - start) / 1e9),
                        evalCurve, examples, step, true);
            }
        }
        double session = (System.nanoTime() - start) / 1e9;
        int done = Math.max(0, t.steps() - first + 1);
        if (resume != null && done == 0 && checkpointDir != null && !resume.dir().equals(checkpointDir.toAbsolutePath().normalize()))
            Checkpoint.save(checkpointDir, exp, mc, model, opt, resume.state(), sink);
        double seconds = priorSeconds + session;
        return new Outcome(model, curve, lastLoss, seconds, done == 0 ? 0 : tokensPerStep * done / session,
                evalCurve, examples, t.steps(), false);
    }

    /**
     * After every update: a weight that became NaN or infinite (finite gradients, but an lr of 1e38 say) must
     * not reach a checkpoint or an evaluation. Checking every step costs one pass over the weights, far less
     * than a step; it also means every checkpoint written so far is finite.
     */
    private static void checkWeights(LanguageModel model) {
        Backend be = model.backend();
        for (Parameter p : model.parameters().list())
            if (!Double.isFinite(be.sumSquares(p.value())))
                throw new NonFiniteException("weight", p.name(), "non-finite weight after the update: " + p.name()
                        + " holds a NaN or infinity (the gradients were finite)");
    }

    /** A non-finite loss: the first weight holding a NaN/infinity (forward order), else the first gradient (backward order). */
    private static NonFiniteException locateNonFiniteLoss(LanguageModel model, double loss) {
        Backend be = model.backend();
        List<Parameter> ps = model.parameters().list();
        String head = "non-finite loss (" + loss + "): ";
        for (Parameter p : ps)
            if (!Double.isFinite(be.sumSquares(p.value())))
                return new NonFiniteException("loss", p.name(), head + "weight " + p.name()
                        + " is the first tensor (forward order) holding a NaN or infinity");
        for (int i = ps.size() - 1; i >= 0; i--)
            if (!Double.isFinite(be.sumSquares(ps.get(i).grad())))
                return new NonFiniteException("loss", ps.get(i).name(), head + "the weights are finite; " + ps.get(i).name()
                        + " is the first gradient (backward order) holding a NaN or infinity");
        return new NonFiniteException("loss", "loss", head + "every weight and gradient is finite (an activation overflowed)");
    }
}
