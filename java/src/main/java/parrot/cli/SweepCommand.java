package parrot.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
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

    @Option(names = "--dry-run", description = "list this shard's cells and their state (done, resume, todo) and stop")
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
        List<String> failed = new ArrayList<>();
        int ran = 0, skipped = 0;
        boolean showBar = progress && System.console() != null;
        try (Backend be = Devices.open(device != null ? device : mine.get(0).experiment().train().device());
             StopSignal stop = StopSignal.install()) {
            for (Cell c : mine) {
                if (Sweep.finished(c, root)) {
                    log.info("{}: done, skipped", c.id());
                    skipped++;
                    continue;
                }
                Path dir = c.dir(root);
                try {
                    Checkpoint.Resumable r = resumable(dir);
                    log.info("{}: {}", c.id(), r == null ? "training" : "resuming at step " + r.state().step());
                    List<LengthResult> acc = TrainCommand.trainOne(c.experiment(), c.model(), be, dir, r, showBar, stop);
                    if (acc == null) {
                        System.out.println("stopped by SIG" + stop.signal() + " in " + c.id()
                                + "; its checkpoint is saved. Run the same sweep command again to continue.");
                        return stop.exitCode();
                    }
                    ran++;
                } catch (RuntimeException e) {
                    log.error("{}: failed: {}", c.id(), e.getMessage());
                    failed.add(c.id() + ": " + e.getMessage());
                }
            }
        }
        System.out.printf("sweep %s shard %s: %d trained, %d already done, %d failed%n", sweep.name(), sh, ran, skipped,
                failed.size());
        failed.forEach(f -> System.out.println("  failed " + f));
        return failed.isEmpty() ? 0 : 1;
    }

    private static String state(Cell c, Path root) {
        if (Sweep.finished(c, root)) return "done";
        Path dir = c.dir(root);
        return Files.isDirectory(dir.resolve("checkpoint")) || Files.isDirectory(dir.resolve("checkpoint" + Checkpoint.PREVIOUS))
                ? "resume" : "todo";
    }

    /** The cell's checkpoint if there is a usable one; a corrupt one (nothing valid left) means starting over. */
    private static Checkpoint.Resumable resumable(Path dir) {
        if (!Files.isDirectory(dir.resolve("checkpoint")) && !Files.isDirectory(dir.resolve("checkpoint" + Checkpoint.PREVIOUS)))
            return null;
        try {
            return Checkpoint.loadForResume(dir);
        } catch (Checkpoint.CheckpointException e) {
            log.warn("{}: no usable checkpoint ({}); starting over", dir, e.getMessage());
            return null;
        }
    }
}
