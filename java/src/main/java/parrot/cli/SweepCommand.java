package parrot.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.errors.ErrorText;
import parrot.eval.LengthResult;
import parrot.sweep.Cell;
import parrot.sweep.Shard;
import parrot.sweep.Sweep;
import parrot.train.Checkpoint;
import parrot.train.StopSignal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Run every cell (experiment × model × seed) of a sweep file, or of one experiment config.",
                "A cell whose result.json is present and valid is skipped; one with a checkpoint is resumed. "
                        + "Results: <out>/<experiment>/<model>/seed-<seed>/result.json."})
final class SweepCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(SweepCommand.class);

    @Parameters(index = "0", paramLabel = "FILE", description = "sweep JSON (experiments/sweeps/*.json) or an experiment config")
    Path file;

    @Option(names = "--shard", paramLabel = "i/n", defaultValue = "0/1",
            description = "run only the cells c with c mod n = i (0 <= i < n), e.g. --shard $SLURM_ARRAY_TASK_ID/8 (default ${DEFAULT-VALUE})")
    String shard;

    @Option(names = "--out", description = "results folder (default: runs/sweeps/<sweep name>)")
    Path out;

    @Option(names = "--set", description = "override a field of every experiment, e.g. --set train.steps=200")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--device", description = "auto, cpu, cuda or cuda:N (default: the first cell's train.device)")
    String device;

    @Option(names = "--dry-run", description = "list this shard's cells and their state (done, resume, rerun: results of an edited config, broken: an unusable checkpoint, todo) and stop")
    boolean dryRun;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "show a progress line (default: when attached to a terminal)")
    boolean progress;

    @Override
    public Integer call() {
        Shard sh = Shard.parse(shard);
        Sweep sweep = Sweep.load(file, overrides);
        Path root = out != null ? out : Path.of("runs", "sweeps", sweep.name());
        List<Cell> mine = sh.select(sweep.cells());
        System.out.printf("sweep %s: %d cells; shard %s runs %d of them in %s%n", sweep.name(), sweep.cells().size(), sh,
                mine.size(), root.toAbsolutePath());
        if (dryRun) {
            for (Cell c : mine) System.out.printf("  %-6s %s%n", state(c, root), c.id());
            return 0;
        }
        if (mine.isEmpty()) return 0;
        Outputs.checkFolder("--out", root);
        List<String> failed = new ArrayList<>();
        int ran = 0, skipped = 0;
        boolean showBar = progress && System.console() != null;
        try (Backend be = Devices.open(device != null ? device : mine.get(0).experiment().train().device());
             StopSignal stop = StopSignal.install()) {
            Evidence.refuseResultsFolder(root, Evidence.emulated(be), "--out");
            for (Cell c : mine) {
                if (Sweep.finished(c, root)) {
                    log.info("{}: done, skipped", c.id());
                    skipped++;
                    continue;
                }
                Path dir = c.dir(root);
                try {
                    Checkpoint.Resumable r = resumable(c, dir);
                    log.info("{}: {}", c.id(), r == null ? "training" : "resuming at step " + r.state().step());
                    List<LengthResult> acc = TrainCommand.trainOne(c.experiment(), c.model(), be, dir, r, showBar, stop);
                    if (acc == null) {
                        System.out.println("stopped by SIG" + stop.signal() + " in " + c.id()
                                + "; its checkpoint is saved. Run the same sweep command again to continue.");
                        return stop.exitCode();
                    }
                    ran++;
                } catch (RuntimeException e) {
                    String why = ErrorText.of(e);
                    log.error("{}: failed: {}", c.id(), why);
                    failed.add(c.id() + ": " + why);
                }
            }
        }
        System.out.printf("sweep %s shard %s: %d trained, %d already done, %d failed%n", sweep.name(), sh, ran, skipped,
                failed.size());
        failed.forEach(f -> System.out.println("  failed " + f));
        return failed.isEmpty() ? 0 : 1;
    }

    /**
     * done; resume (a usable checkpoint of this config); rerun (results or a checkpoint of an edited config);
     * broken (a checkpoint that fails its checks: the run reports the cell failed, it is not retrained); todo.
     */
    private static String state(Cell c, Path root) {
        if (Sweep.finished(c, root)) return "done";
        Path dir = c.dir(root);
        if (hasCheckpoint(dir)) {
            try {
                Checkpoint.Resumable r = Checkpoint.loadForResume(dir);
                return sameConfig(c, r) ? "resume" : "rerun";
            } catch (RuntimeException e) {
                return "broken";
            }
        }
        return Files.exists(dir.resolve("result.json")) ? "rerun" : "todo";
    }

    private static boolean hasCheckpoint(Path dir) {
        return Files.isDirectory(dir.resolve("checkpoint")) || Files.isDirectory(dir.resolve("checkpoint" + Checkpoint.PREVIOUS));
    }

    private static boolean sameConfig(Cell cell, Checkpoint.Resumable r) {
        return ConfigLoader.toJson(r.experiment()).equals(ConfigLoader.toJson(cell.experiment())) && r.model().equals(cell.model());
    }

    /**
     * The cell's checkpoint if there is a usable one of this cell's config; null when there is none, or one of
     * an edited config (the cell trains again). A checkpoint that fails its checks fails the cell: retraining
     * silently would throw away a researcher's run over what may be a repairable file.
     */
    private static Checkpoint.Resumable resumable(Cell cell, Path dir) {
        if (!hasCheckpoint(dir)) return null;
        Checkpoint.Resumable r;
        try {
            r = Checkpoint.loadForResume(dir);
        } catch (RuntimeException e) {
            throw new Checkpoint.CheckpointException("its checkpoint is unusable, so the cell is not retrained (move "
                    + dir.resolve("checkpoint") + " away to train it from scratch): " + ErrorText.of(e));
        }
        if (sameConfig(cell, r)) return r;
        log.warn("{}: its checkpoint was written by another config (edited since); starting over", cell.id());
        return null;
    }
}
