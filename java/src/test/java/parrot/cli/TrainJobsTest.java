package parrot.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;
import parrot.eval.LengthResult;
import parrot.results.ResultsIO;
import parrot.results.RunResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `parrot train --jobs`: models side by side give the same bits as one at a time; failures and stops. */
class TrainJobsTest {
    static final String CONFIG = """
            {"name": "jobs", "seed": 4,
             "task": {"type": "copy", "lengths": "1..4"},
             "train": {"steps": 12, "batch_size": 4, "context": 16, "log_every": 6},
             "eval": {"lengths": "1..6:5", "samples": 5},
             "models": [{"name": "t", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "hard-alibi", "hard_alibi_heads": 1},
                        {"name": "m", "family": "mamba", "d_model": 16, "n_layers": 1},
                        {"name": "l", "family": "lstm", "d_model": 16, "n_layers": 1}]}
            """;

    @Test
    void sideBySideIsBitwiseOneAtATime(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, CONFIG);
        for (String jobs : new String[]{"1", "3"}) {
            CliTest.Run r = CliTest.run("train", "--config", cfg.toString(), "--out", dir.resolve("j" + jobs).toString(),
                    "--device", "cpu", "--jobs", jobs);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("results:"), r.out());
        }
        for (String model : new String[]{"t", "m", "l"}) {
            RunResult a = ResultsIO.readRun(dir.resolve("j1/" + model + "/result.json"));
            RunResult b = ResultsIO.readRun(dir.resolve("j3/" + model + "/result.json"));
            assertEquals(a.lossCurve().size(), b.lossCurve().size(), model);
            for (int i = 0; i < a.lossCurve().size(); i++) {       // all but the tokens/s
                var p = a.lossCurve().get(i);
                var q = b.lossCurve().get(i);
                assertEquals(List.of(p.step(), p.loss(), p.lr(), p.gradNorm()), List.of(q.step(), q.loss(), q.lr(), q.gradNorm()), model);
            }
            assertEquals(a.finalLoss(), b.finalLoss(), model);
            assertEquals(a.accuracy(), b.accuracy(), model);
            assertEquals(a.evalCurve(), b.evalCurve(), model);
        }
    }

    @Test
    void badJobCountsAreOneLine(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, CONFIG);
        for (String bad : new String[]{"0", "two", "-1"}) {
            CliTest.Run r = CliTest.run("train", "--config", cfg.toString(), "--out", dir.resolve("x").toString(),
                    "--device", "cpu", "--jobs", bad);
            assertEquals(2, r.code(), r.out());
            assertTrue(r.err().contains("--jobs: '" + bad + "'; allowed: auto or a positive integer"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }

    private static List<ModelConfig> models() {
        return ConfigLoader.parse(CONFIG, List.of()).models();
    }

    @Test
    void afterAFailureNoFurtherModelStartsAndTheFailureIsThrown() {
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TrainJobs.run(models(), 1, () -> false,
                mc -> {
                    ran.add(mc.name());
                    if (mc.name().equals("m")) throw new IllegalStateException("m diverged");
                    return List.of();
                }));
        assertEquals("m diverged", e.getMessage());
        assertEquals(List.of("t", "m"), ran);
        IllegalStateException side = assertThrows(IllegalStateException.class, () -> TrainJobs.run(models(), 2,
                () -> false, mc -> {
                    if (mc.name().equals("t")) throw new IllegalStateException("t diverged");
                    return List.of();
                }));
        assertEquals("t diverged", side.getMessage());
    }

    @Test
    void aStopLeavesTheRestNotStartedAndKeepsConfigOrder() {
        boolean[] stop = {false};
        Map<ModelConfig, List<LengthResult>> out = TrainJobs.run(models(), 1, () -> stop[0], mc -> {
            if (mc.name().equals("m")) {
                stop[0] = true;
                return null;                                    // what trainOne returns when a stop ended it
            }
            return new ArrayList<>();
        });
        List<ModelConfig> keys = new ArrayList<>(out.keySet());
        assertEquals(List.of("t", "m", "l"), keys.stream().map(ModelConfig::name).toList());
        assertTrue(out.get(keys.get(0)).isEmpty() && out.get(keys.get(0)) != TrainJobs.NOT_STARTED);
        assertEquals(null, out.get(keys.get(1)));
        assertSame(TrainJobs.NOT_STARTED, out.get(keys.get(2)));
        Map<ModelConfig, List<LengthResult>> side = TrainJobs.run(models(), 3, () -> false, mc -> List.of(new LengthResult[0]));
        assertEquals(List.of("t", "m", "l"), side.keySet().stream().map(ModelConfig::name).toList());
    }
}
