package parrot.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same seed gives bitwise the same Mamba losses in two fresh JVMs (the SIMD kernels on). Within one JVM the
 * loops are compiled alike for both runs; across processes the JIT compiles them at different moments, which is
 * what once made the vector exp (VectorOperators.EXP: per-lane Math.exp before C2, SVML after) differ.
 */
class FreshProcessDeterminismTest {
    private static JsonNode train(Path out) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "parrot.cli.Main", "train", "--config", "experiments/quickstart.json", "--model", "mamba",
                "--set", "train.steps=20", "--set", "train.log_every=5", "--set", "eval.lengths=3..3",
                "--set", "eval.samples=2", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), log);
        assertEquals(0, p.exitValue(), log);
        return new ObjectMapper().readTree(out.resolve("mamba/result.json").toFile());
    }

    @Test
    void mambaLossesAreTheSameInTwoProcesses(@TempDir Path tmp) throws Exception {
        JsonNode a = train(tmp.resolve("a")), b = train(tmp.resolve("b"));
        assertEquals(4, a.get("loss_curve").size());
        for (int i = 0; i < a.get("loss_curve").size(); i++)
            assertEquals(a.get("loss_curve").get(i).get("loss").asDouble(), b.get("loss_curve").get(i).get("loss").asDouble(),
                    0.0, "loss at step " + a.get("loss_curve").get(i).get("step"));
        assertEquals(a.get("final_loss").asDouble(), b.get("final_loss").asDouble(), 0.0);
    }
}
