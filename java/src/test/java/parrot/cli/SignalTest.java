package parrot.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.train.Checkpoint;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** SIGTERM to a training JVM: it checkpoints at the step boundary and exits 143, and the checkpoint resumes. */
class SignalTest {
    @Test
    void sigtermCheckpointsAndExits(@TempDir Path tmp) throws Exception {
        Path config = tmp.resolve("long.json");
        Files.writeString(config, """
                {"name": "long", "task": {"type": "copy", "lengths": "1..4"},
                 "train": {"steps": 1000000, "batch_size": 4, "context": 16, "log_every": 5},
                 "eval": {"lengths": "2", "samples": 2},
                 "models": [{"name": "m", "d_model": 16, "n_heads": 2, "n_layers": 1}]}
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "train", "--config", config.toString(), "--out", tmp.resolve("runs").toString(), "--device", "cpu")
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        String line;
        StringBuilder log = new StringBuilder();
        while ((line = out.readLine()) != null) {
            log.append(line).append('\n');
            if (line.contains("step 20/")) break;
        }
        assertNotNull(line, "training never reached step 20:\n" + log);
        // SIGTERM by pid (Process.destroy() would also close our end of the child's output).
        assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor());
        Thread drain = new Thread(() -> out.lines().forEach(l -> log.append(l).append('\n')));
        drain.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop on SIGTERM:\n" + log);
        drain.join(5000);
        assertEquals(143, p.exitValue(), log.toString());
        assertTrue(log.toString().contains("parrot train --resume"), log.toString());
        Path run = tmp.resolve("runs/m");
        assertFalse(Files.exists(run.resolve("result.json")));
        Checkpoint.Resumable r = Checkpoint.loadForResume(run);
        assertTrue(r.state().step() >= 20 && r.state().step() < 1000000, "step " + r.state().step());
        assertEquals(r.state().step(), r.optimizerStep());
        assertEquals("long", r.experiment().name());
    }
}
