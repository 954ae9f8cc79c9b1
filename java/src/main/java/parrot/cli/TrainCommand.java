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
import parrot.results.ResultsIO;
import parrot.results.RunResult;
import parrot.train.Checkpoint;
import parrot.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train every model of an experiment config, evaluate it by length, write checkpoints and result JSON.")
final class TrainCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(TrainCommand.class);

    @Option(names = "--config", required = true, description = "experiment JSON (e.g. experiments/quickstart.json)")
    Path config;

    @Option(names = "--set", description = "override a config field, e.g. --set train.steps=200 --set models.nope.n_layers=1")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--device", description = "auto, cpu, cuda or cuda:N (default: the config's train.device)")
    String device;

    @Option(names = "--out", description = "output folder (default: runs/<experiment name>)")
    Path out;

    @Option(names = "--model", description = "train only these models of the config (by name)")
    List<String> only = new ArrayList<>();

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "show a progress line (default: when attached to a terminal)")
    boolean progress;

    @Override
    public Integer call() {
        ExperimentConfig exp = ConfigLoader.load(config, overrides);
        Path dir = out != null ? out : Path.of("runs", exp.name());
        Task task = Tasks.of(exp.task());
        Map<String, List<LengthResult>> table = new LinkedHashMap<>();
        try (Backend be = Devices.open(device != null ? device : exp.train().device())) {
            for (ModelConfig mc : exp.models()) {
                if (!only.isEmpty() && !only.contains(mc.name())) continue;
                table.put(mc.name(), trainOne(exp, mc, be, task, dir.resolve(mc.name())));
            }
        }
        if (table.isEmpty()) throw new IllegalArgumentException("--model: no model named " + only + " in " + config);
        System.out.println();
        Tables.printAccuracy(System.out, table, exp.task().lengths().hi());
        System.out.println("results: " + dir.toAbsolutePath());
        return 0;
    }

    private List<LengthResult> trainOne(ExperimentConfig exp, ModelConfig mc, Backend be, Task task, Path dir) {
        long wallStart = System.nanoTime();
        String started = Instant.now().toString();
        Trainer.Outcome outcome;
        boolean showBar = progress && System.console() != null;
        try (ProgressBar bar = showBar ? new ProgressBarBuilder().setTaskName(mc.name()).setInitialMax(exp.train().steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build() : null) {
            outcome = new Trainer(exp, mc, be, task, bar == null ? null : (step, total, loss, lr, tps) -> {
                bar.stepTo(step);
                bar.setExtraMessage(String.format(" loss %.4f  lr %.1e  %,.0f tok/s", loss, lr, tps));
            }).run();
        }
        log.info("{}: trained in {} s, {} tokens/s, final loss {}", mc.name(), String.format("%.1f", outcome.trainSeconds()),
                String.format("%.0f", outcome.tokensPerSecond()), String.format("%.4f", outcome.finalLoss()));
        Checkpoint.save(dir.resolve("checkpoint"), outcome.model(), mc, exp.task(), Map.of("seed", exp.seed()));

        Evaluator ev = new Evaluator(outcome.model(), task, exp.eval().batchSize(), exp.seed());
        int[] lengths = exp.eval().lengths().values();
        List<LengthResult> acc;
        try (ProgressBar bar = showBar ? new ProgressBarBuilder().setTaskName(mc.name() + " eval")
                .setInitialMax(lengths.length).setStyle(ProgressBarStyle.ASCII).build() : null) {
            acc = ev.evaluate(lengths, exp.eval().samples(), len -> {
                if (bar != null) bar.step();
            });
        }
        RunResult r = new RunResult(RunResult.SCHEMA, exp.name(), mc.name(), exp.seed(), BuildInfo.gitCommit(), be.name(),
                started, outcome.model().parameters().count(), mc, exp.task(), exp.train(), exp.eval(),
                (System.nanoTime() - wallStart) / 1e9, outcome.trainSeconds(), outcome.tokensPerSecond(),
                outcome.finalLoss(), outcome.lossCurve(), acc);
        ResultsIO.write(dir.resolve("result.json"), r);
        return acc;
    }
}
