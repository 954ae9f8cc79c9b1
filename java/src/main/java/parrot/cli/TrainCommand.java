package parrot.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.data.Task;
import parrot.train.Tasks;
import parrot.eval.Evaluator;
import parrot.eval.LengthResult;
import parrot.model.StateCapacity;
import parrot.results.ResultsIO;
import parrot.results.RunResult;
import parrot.config.TaskConfig;
import parrot.results.TaskAccuracy;
import parrot.train.Checkpoint;
import parrot.train.MemoryBudget;
import parrot.train.StopSignal;
import parrot.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train every model of an experiment config, evaluate it by length, write checkpoints and result JSON.")
final class TrainCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(TrainCommand.class);

    @Option(names = "--config", description = "experiment JSON (e.g. experiments/quickstart.json)")
    Path config;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue a stopped run from its checkpoint: a run folder "
            + "(runs/<experiment>/<model>) or its checkpoint folder; the config is the one stored in the checkpoint")
    Path resume;

    @Option(names = "--set", description = "override a config field, e.g. --set train.steps=200 --set models.nope.n_layers=1")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--device", description = "auto, cpu, cuda or cuda:N (default: the config's train.device)")
    String device;

    @Option(names = "--out", description = "output folder (default: runs/<experiment name>)")
    Path out;

    @Option(names = "--model", description = "train only these models of the config (by name)")
    List<String> only = new ArrayList<>();

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "auto",
            description = "models trained side by side on the CPU, each on its own core where there are as many cores "
                    + "as jobs (default auto: one a core, up to the number of models; the results are the same bits)")
    String jobs;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "show a progress line (default: when attached to a terminal)")
    boolean progress;

    @Override
    public Integer call() {
        if ((config == null) == (resume == null))
            throw new IllegalArgumentException("give --config FILE to start a run or --resume DIR to continue one (not both)");
        if (resume != null) return resume();
        ExperimentConfig exp = ConfigLoader.load(config, overrides);
        for (String name : only) exp.model(name); // an unknown --model name is refused before anything runs
        TrainJobs.parse(jobs);                    // and a malformed --jobs
        Path dir = out != null ? out : Path.of("runs", exp.name());
        Map<String, List<LengthResult>> table = new LinkedHashMap<>();
        boolean showBar = progress && System.console() != null;
        List<ModelConfig> chosen = exp.models().stream().filter(m -> only.isEmpty() || only.contains(m.name())).toList();
        if (out != null && Files.isRegularFile(out)) throw new IllegalArgumentException("--out: " + out + " is a file, not a folder");
        try (Backend be = Devices.open(device != null ? device : exp.train().device());
             StopSignal stop = StopSignal.install()) {
            Evidence.refuseResultsFolder(dir, Evidence.emulated(be), "--out");
            for (ModelConfig mc : chosen) preflight(exp, mc, be, dir.resolve(mc.name()), out != null ? "--out" : "output folder");
            int n = TrainJobs.count(jobs, be, exp, chosen);
            if (n > 1) log.info("training {} models side by side ({} at a time, --jobs {})", chosen.size(), n, jobs);
            boolean bars = showBar && n == 1;                     // one progress line per terminal
            Map<ModelConfig, List<LengthResult>> done = TrainJobs.run(chosen, n, stop,
                    mc -> trainOne(exp, mc, be, dir.resolve(mc.name()), null, bars, stop));
            List<String> stopped = new ArrayList<>(), notStarted = new ArrayList<>();
            for (Map.Entry<ModelConfig, List<LengthResult>> e : done.entrySet()) {
                if (e.getValue() == null) stopped.add(e.getKey().name());
                else if (e.getValue() == TrainJobs.NOT_STARTED) notStarted.add(e.getKey().name());
                else table.put(e.getKey().name(), e.getValue());
            }
            if (!stopped.isEmpty()) {
                for (String name : stopped.subList(0, stopped.size() - 1))
                    System.out.println("stopped: " + name + "; continue with: parrot train --resume " + dir.resolve(name));
                if (!notStarted.isEmpty())
                    System.out.println("not started: " + String.join(", ", notStarted) + " (train with --model NAME)");
                return stopped(stop, dir.resolve(stopped.get(stopped.size() - 1)));
            }
        }
        System.out.println();
        Tables.printAccuracy(System.out, table, exp.task().lengths().hi());
        System.out.println("results: " + dir.toAbsolutePath());
        return 0;
    }

    private int resume() {
        if (!overrides.isEmpty() || !only.isEmpty() || out != null)
            throw new IllegalArgumentException("--resume continues the stored config in its own folder: --set, --model and --out do not apply");
        Checkpoint.Resumable r = Checkpoint.loadForResume(resume);
        ExperimentConfig exp = r.experiment();
        Path runDir = r.dir().getParent();
        boolean showBar = progress && System.console() != null;
        List<LengthResult> acc;
        try (Backend be = Devices.open(device != null ? device : exp.train().device());
             StopSignal stop = StopSignal.install()) {
            Evidence.refuseResultsFolder(runDir, Evidence.emulated(be), "--resume");
            preflight(exp, r.model(), be, runDir, "run folder");
            acc = trainOne(exp, r.model(), be, runDir, r, showBar, stop);
            if (acc == null) return stopped(stop, runDir);
        }
        System.out.println();
        Tables.printAccuracy(System.out, Map.of(r.model().name(), acc), exp.task().lengths().hi());
        System.out.println("results: " + runDir.toAbsolutePath());
        return 0;
    }

    private static int stopped(StopSignal stop, Path runDir) {
        System.out.println("stopped by SIG" + stop.signal() + "; checkpoint saved. Continue with: parrot train --resume " + runDir);
        return stop.exitCode();
    }

    /**
     * Everything that can be known before the first step: the run folder is writable and the model, its
     * training step and its evaluation fit in memory (estimated from the config, see MemoryBudget).
     */
    static void preflight(ExperimentConfig exp, ModelConfig mc, Backend be, Path dir, String what) {
        Outputs.checkFolder(what, dir);
        int bytes = be.dtype() == parrot.backend.Tensor.DType.F64 ? 8 : 4;
        boolean host = be instanceof parrot.backend.cpu.CpuBackend || be instanceof parrot.backend.cpu.f64.CpuBackend;
        int vocab = exp.task().vocabSize();
        String name = "models." + mc.name();
        MemoryBudget.checkTraining(name, mc, vocab, exp.train().batchSize(), exp.train().context(), bytes, host);
        long evalTokens = exp.task().maxTokens(exp.eval().lengths().hi());
        for (TaskConfig et : exp.eval().tasks()) evalTokens = Math.max(evalTokens, et.maxTokens(exp.eval().lengths().hi()));
        MemoryBudget.checkEval(name + " (eval.lengths up to " + exp.eval().lengths().hi() + ")", mc, vocab,
                Math.min(exp.eval().batchSize(), exp.eval().samples()), evalTokens, bytes);
    }

    /**
     * Trains (or continues) one model, evaluates it and writes runDir/result.json, with checkpoints in
     * runDir/checkpoint. Returns the accuracy by length, or null when a stop request ended training early (its
     * checkpoint is written; no result).
     */
    static List<LengthResult> trainOne(ExperimentConfig exp, ModelConfig mc, Backend be, Path dir,
                                       Checkpoint.Resumable resumeFrom, boolean showBar, StopSignal stop) {
        preflight(exp, mc, be, dir, "run folder");
        Task task = Tasks.of(exp.task());
        double prior = resumeFrom == null ? 0 : resumeFrom.state().trainSeconds();
        long wallStart = System.nanoTime() - (long) (prior * 1e9); // wall time counts earlier sessions' training
        String started = Instant.now().toString();
        Trainer.Outcome outcome;
        // The probe (train.eval_every): a few strings at each training length, many times during training.
        int[] probeLengths = exp.train().probeLengths(exp.task()).values();
        try (ProgressBar bar = showBar ? new ProgressBarBuilder().setTaskName(mc.name()).setInitialMax(exp.train().steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build() : null) {
            outcome = new Trainer(exp, mc, be, task, bar == null ? null : (step, total, loss, lr, tps) -> {
                bar.stepTo(step);
                bar.setExtraMessage(String.format(" loss %.4f  lr %.1e  %,.0f tok/s", loss, lr, tps));
            }).checkpointTo(dir.resolve("checkpoint")).resumeFrom(resumeFrom).stopWhen(stop).probe((model, step) -> {
                List<LengthResult> a = new Evaluator(model, task, exp.eval().batchSize(), exp.seed())
                        .evaluate(probeLengths, exp.train().evalSamples(), null);
                log.info("{} step {}: string accuracy {} at lengths {}", mc.name(), step, String.format("%.3f",
                        a.stream().mapToDouble(LengthResult::stringAccuracy).average().orElse(0)),
                        exp.train().probeLengths(exp.task()));
                return a;
            }).run();
        }
        if (outcome.stopped()) return null;
        log.info("{}: trained in {} s, {} tokens/s, final loss {}", mc.name(), String.format("%.1f", outcome.trainSeconds()),
                String.format("%.0f", outcome.tokensPerSecond()), String.format("%.4f", outcome.finalLoss()));

        List<TaskAccuracy> taskAcc = new ArrayList<>();
        for (TaskConfig et : exp.eval().tasks()) {
            List<LengthResult> a = new Evaluator(outcome.model(), Tasks.of(et), exp.eval().batchSize(), exp.seed())
                    .evaluate(exp.eval().lengths().values(), exp.eval().samples(), null);
            log.info("{} on {} (ngram {}): string accuracy {}", mc.name(), et.type(), et.ngram(),
                    a.stream().map(x -> String.format("%.2f", x.stringAccuracy())).toList());
            taskAcc.add(new TaskAccuracy(et, a));
        }
        Evaluator ev = new Evaluator(outcome.model(), task, exp.eval().batchSize(), exp.seed());
        int[] lengths = exp.eval().lengths().values();
        List<LengthResult> acc;
        try (ProgressBar bar = showBar ? new ProgressBarBuilder().setTaskName(mc.name() + " eval")
                .setInitialMax(lengths.length).setStyle(ProgressBarStyle.ASCII).build() : null) {
            acc = ev.evaluate(lengths, exp.eval().samples(), len -> {
                if (bar != null) bar.step();
            });
        }
        Optional<StateCapacity> capacity = StateCapacity.of(mc, be.dtype() == parrot.backend.Tensor.DType.F64 ? 64 : 32);
        capacity.ifPresent(s -> log.info("{}: state {} bits; Corollary 2.8 allows copying up to length {} over {} letters",
                mc.name(), s.bits(), s.copyBoundLength(exp.task().alphabet()), exp.task().alphabet()));
        RunResult r = new RunResult(RunResult.SCHEMA, exp.name(), mc.name(), exp.seed(), BuildInfo.gitCommit(), be.name(),
                Evidence.device(be), started, outcome.model().parameters().count(), mc, exp.task(), exp.train(), exp.eval(),
                outcome.examplesSeen(), outcome.evalCurve(), taskAcc,
                (System.nanoTime() - wallStart) / 1e9, outcome.trainSeconds(), outcome.tokensPerSecond(),
                outcome.finalLoss(), outcome.lossCurve(), acc, capacity.map(StateCapacity::bits).orElse(null),
                capacity.map(s -> s.copyBoundLength(exp.task().alphabet())).orElse(null));
        ResultsIO.write(dir.resolve("result.json"), r);
        return acc;
    }
}
