package parrot.faults;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.train.Checkpoint;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fault suite, kill -9: `parrot train` in a child JVM with a checkpoint every step, killed at a random moment
 * (during a step or a checkpoint write), then `parrot train --resume` to the end. The final checkpoint files
 * must be byte-identical to an uninterrupted run's — which also shows checkpoints are byte-reproducible.
 */
class KillNineFaultsTest {
    static final String CONFIG = """
            {"name": "kill", "seed": 9,
             "task": {"type": "copy", "lengths": "1..4"},
             "train": {"steps": 24, "batch_size": 4, "context": 16, "lr": 0.003, "warmup_steps": 2, "log_every": 1,
                       "checkpoint_every": 1},
             "eval": {"lengths": "1..2", "samples": 2, "batch_size": 2},
             "models": [{"name": "m", "d_model": 32, "n_heads": 2, "n_layers": 1, "positional": "hard-alibi"}]}
            """;

    @Test
    void killedRunsResumeToBitwiseTheSameCheckpoint(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("kill.json");
        Files.writeString(cfg, CONFIG);
        Cli.Outcome straight = Cli.run(List.of("train", "--config", cfg.toString(), "--out", tmp.resolve("straight").toString(),
                "--no-progress", "--device", "cpu"));
        assertEquals(0, straight.code(), straight.describe());
        Path ref = tmp.resolve("straight/m/checkpoint");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random rnd = new Random(20261201L);
        int cases = 3, bitwise = 0;
        List<String> kills = new ArrayList<>();
        for (int c = 0; c < cases; c++) {
            Path out = tmp.resolve("k" + c);
            Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    "parrot.cli.Main", "train", "--config", cfg.toString(), "--out", out.toString(), "--no-progress", "--device", "cpu")
                    .redirectErrorStream(true).start();
            // Wait until it has trained a random number of steps, then kill it at a random moment after.
            int steps = 2 + rnd.nextInt(20);
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
            String line;
            while ((line = r.readLine()) != null && !line.contains("m step " + steps + "/")) ;
            Thread.sleep(rnd.nextInt(15));
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            kills.add("after step " + steps);
            Path run = out.resolve("m");
            Cli.Outcome resumed = Files.isDirectory(run.resolve("checkpoint")) || Files.isDirectory(run.resolve("checkpoint.prev"))
                    ? Cli.run(List.of("train", "--resume", run.toString(), "--no-progress", "--device", "cpu"))
                    : Cli.run(List.of("train", "--config", cfg.toString(), "--out", out.toString(), "--no-progress", "--device", "cpu"));
            assertEquals(0, resumed.code(), resumed.describe());
            assertFalse(resumed.trace(), resumed.describe());
            for (String f : List.of(Checkpoint.WEIGHTS, Checkpoint.OPTIMIZER, Checkpoint.CONFIG))
                assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(run.resolve("checkpoint").resolve(f)),
                        "case " + c + " (killed " + kills.get(c) + "): " + f + " differs from the uninterrupted run's");
            bitwise++;
        }
        System.out.printf("fault suite %-22s %5d inputs: %5d resumed bitwise (killed %s), 0 stack traces%n", "kill -9 training", cases,
                bitwise, String.join(", ", kills));
    }

}
