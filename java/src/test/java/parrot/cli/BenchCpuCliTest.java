package parrot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.results.ResultsIO;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCpuCliTest {
    @Test
    void opsPrintsAndWritesTheProfile(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        CliTest.Run r = CliTest.run("bench", "cpu", "--models", "lstm", "--steps", "2", "--warmup", "1",
                "--python", "none", "--ops", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("lstm by op"), r.out());
        assertTrue(r.out().contains("lstmForward") || r.out().contains("linearForward"), r.out());
        JsonNode ops = ResultsIO.JSON.readTree(json.toFile()).get("models").get(0).get("ops");
        assertTrue(ops.isArray() && ops.size() > 3, String.valueOf(ops));
        assertEquals(1.0, find(ops, "adamw").get("calls_per_step").asDouble());
    }

    @Test
    void withoutOpsThereIsNoProfile(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        CliTest.Run r = CliTest.run("bench", "cpu", "--models", "lstm", "--steps", "1", "--warmup", "1",
                "--python", "none", "--same-jvm", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(!r.out().contains("by op"), r.out());
        assertTrue(ResultsIO.JSON.readTree(json.toFile()).get("models").get(0).get("ops") == null);
    }

    /** The default: each model in a JVM of its own, whose row reaches this output and the JSON. */
    @Test
    void everyModelRunsInAFreshJvm(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        CliTest.Run r = CliTest.run("bench", "cpu", "--models", "lstm,mamba", "--steps", "1", "--warmup", "1",
                "--python", "none", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("in a fresh JVM") && r.out().contains("\nlstm ") && r.out().contains("\nmamba "),
                r.out());
        JsonNode doc = ResultsIO.JSON.readTree(json.toFile());
        assertEquals(2, doc.get("models").size());
        assertEquals("mamba", doc.get("models").get(1).get("parrot").get("family").asText());
        assertTrue(doc.get("models").get(0).get("parrot").get("tokens_per_second").asDouble() > 0);
        // HotSpot counts every thread's allocations: a step trains a model, so it allocates something
        assertTrue(doc.get("models").get(1).get("parrot").get("heap_bytes_per_step").asDouble() > 0, doc.toString());
        assertTrue(r.out().contains("heap MB/step"), r.out());
    }

    private static JsonNode find(JsonNode ops, String name) {
        for (JsonNode o : ops) if (o.get("name").asText().equals(name)) return o;
        throw new AssertionError("no op " + name + " in " + ops);
    }
}
