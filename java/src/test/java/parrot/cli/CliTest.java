package parrot.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.results.ResultsIO;
import parrot.results.RunResult;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands end to end on a tiny config: train → checkpoint + result JSON → eval from the checkpoint. */
class CliTest {
    static final String CONFIG = """
            {"name": "cli", "seed": 2,
             "task": {"type": "copy", "lengths": "1..4"},
             "train": {"steps": 20, "batch_size": 4, "context": 16, "log_every": 10},
             "eval": {"lengths": "1..8:3", "samples": 5},
             "models": [{"name": "tiny", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "rope", "rotary_pct": 0.5}]}
            """;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            return new Run(Main.run(args), out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void trainThenEvalFromTheCheckpoint(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, CONFIG);
        Run t = run("train", "--config", cfg.toString(), "--out", dir.resolve("runs").toString(), "--device", "cpu");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("string accuracy"), t.out());
        RunResult r = ResultsIO.readRun(dir.resolve("runs/tiny/result.json"));
        assertEquals(RunResult.SCHEMA, r.schema());
        assertEquals(20, r.train().steps());
        assertEquals(4, r.accuracy().size());             // 1, 4, 7, 8: the top of the range is always evaluated
        assertEquals(8, r.accuracy().get(3).length());
        assertTrue(r.parameters() > 0 && r.tokensPerSecond() > 0);

        Run e = run("eval", "--checkpoint", dir.resolve("runs/tiny/checkpoint").toString(), "--lengths", "2..3",
                "--samples", "4", "--json", dir.resolve("acc.json").toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(Files.readString(dir.resolve("acc.json")).contains("\"string_accuracy\""));
    }

    @Test
    void badInputIsOneLineNamingTheField(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, CONFIG);
        Run r = run("train", "--config", cfg.toString(), "--set", "task.lengths=5..2");
        assertEquals(2, r.code());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("parrot: task.lengths"), line);

        Run d = run("train", "--config", cfg.toString(), "--device", "tpu");
        assertTrue(d.err().strip().endsWith("allowed: auto, cpu, cuda, cuda:N"), d.err());
    }

    @Test
    void selftestWithoutGpuSkipsAndNeverPasses(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(parrot.backend.cuda.DeviceSelector.cudaUsable(),
                "a CUDA device (a GPU or the emulated one) is present");
        Run r = run("selftest", "--device", "cuda", "--json", dir.resolve("p.json").toString());
        assertEquals(4, r.code());
        assertTrue(r.out().contains(": 0 passed, 0 failed,"), r.out());
        assertFalse(r.out().contains("PASSED"));
    }
}
