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
 * what once made the vector exp (VectorOperators.EXP: per-lane Math.exp before C2, SVML after) differ. And the
 * transformer's are the same on different thread counts.
 */
class FreshProcessDeterminismTest {
    private static JsonNode train(Path out) throws Exception {
        return train(out, "mamba", null);
    }

    /** 20 steps of a quickstart model in a fresh JVM; threads null = the machine's cores. */
    private static JsonNode train(Path out, String model, Integer threads) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector"));
        if (threads != null) cmd.add("-Dparrot.threads=" + threads);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                "parrot.cli.Main", "train", "--config", "experiments/quickstart.json", "--model", model,
                "--set", "train.steps=20", "--set", "train.log_every=5", "--set", "eval.lengths=3..3",
                "--set", "eval.samples=2", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), log);
        assertEquals(0, p.exitValue(), log);
        return new ObjectMapper().readTree(out.resolve(model + "/result.json").toFile());
    }

    private static void sameLosses(JsonNode a, JsonNode b) {
        assertEquals(4, a.get("loss_curve").size());
        for (int i = 0; i < a.get("loss_curve").size(); i++)
            assertEquals(a.get("loss_curve").get(i).get("loss").asDouble(), b.get("loss_curve").get(i).get("loss").asDouble(),
                    0.0, "loss at step " + a.get("loss_curve").get(i).get("step"));
        assertEquals(a.get("final_loss").asDouble(), b.get("final_loss").asDouble(), 0.0);
    }

    @Test
    void mambaLossesAreTheSameInTwoProcesses(@TempDir Path tmp) throws Exception {
        sameLosses(train(tmp.resolve("a")), train(tmp.resolve("b")));
    }

    /**
     * The CPU backend splits work by index ranges whose count follows the thread count (Parallel.forRange), never
     * a reduction: the Hard-ALiBi transformer's losses must be bitwise the same on one thread and on three.
     */
    @Test
    void transformerLossesDoNotDependOnTheThreadCount(@TempDir Path tmp) throws Exception {
        sameLosses(train(tmp.resolve("one"), "hard-alibi", 1), train(tmp.resolve("three"), "hard-alibi", 3));
    }
}
