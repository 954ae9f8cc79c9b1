package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.eval.Wilson;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static parrot.results.RunFixtures.run;

/** merge's aggregation across seeds, and its refusal to average runs that differ in more than seed. */
class SeedGroupsTest {
    private static JsonNode aggregate(ObjectNode table, String model, int length) {
        for (JsonNode a : table.get("aggregates"))
            if (a.get("model").asText().equals(model) && a.get("length").asInt() == length && a.get("role").asText().equals("main"))
                return a;
        throw new AssertionError("no aggregate for " + model + " at " + length + " in " + table.get("aggregates"));
    }

    @Test
    void seedsAreAggregatedWithMeanMinMaxAndEachSeed(@TempDir Path tmp) {
        ResultsIO.write(tmp.resolve("s1/result.json"), run("e", "m", 1, 100, 1.0, 0.50));
        ResultsIO.write(tmp.resolve("s2/result.json"), run("e", "m", 2, 100, 0.9, 0.20));
        ResultsIO.write(tmp.resolve("s3/result.json"), run("e", "m", 3, 100, 0.8, 0.35));
        ResultsIO.write(tmp.resolve("other/result.json"), run("e", "solo", 1, 20, 0.0, 0.35));
        ObjectNode t = ResultTable.merge(List.of(tmp));

        JsonNode a = aggregate(t, "m", 4);
        assertEquals(List.of(1L, 2L, 3L), ResultsIO.JSON.convertValue(a.get("seeds"), List.class).stream()
                .map(x -> ((Number) x).longValue()).toList());
        JsonNode s = a.get("string_accuracy");
        assertEquals((0.5 + 0.2 + 0.35) / 3, s.get("mean").asDouble(), 1e-12);
        assertEquals(0.20, s.get("min").asDouble(), 1e-12);
        assertEquals(0.50, s.get("max").asDouble(), 1e-12);
        assertEquals(List.of(0.5, 0.2, 0.35), ResultsIO.JSON.convertValue(s.get("per_seed"), List.class));
        assertEquals(0.20, s.get("band_lo").asDouble(), 1e-12, "3 seeds: the band is min..max");
        assertEquals(0.50, s.get("band_hi").asDouble(), 1e-12);
        assertEquals(100, a.get("samples").asInt(), "strings a seed");

        // One seed: its band is the 95% Wilson interval of its 20 strings (7 of 20 right).
        JsonNode solo = aggregate(t, "solo", 4).get("string_accuracy");
        assertEquals(Wilson.of(7, 20).lo(), solo.get("band_lo").asDouble(), 1e-12);
        assertEquals(Wilson.of(7, 20).hi(), solo.get("band_hi").asDouble(), 1e-12);
        assertTrue(solo.get("band").asText().contains("Wilson"), solo.toString());

        // Every per-run row carries its own interval.
        for (JsonNode row : t.get("rows")) {
            Wilson w = Wilson.ofAccuracy(row.get("string_accuracy").asDouble(), row.get("samples").asInt());
            assertEquals(w.lo(), row.get("string_accuracy_lo").asDouble(), 1e-12);
            assertEquals(w.hi(), row.get("string_accuracy_hi").asDouble(), 1e-12);
        }
    }

    @Test
    void runsThatDifferInMoreThanSeedAreRefused() {
        ObjectNode a = run("e", "m", 1, 100, 1.0), b = run("e", "m", 2, 100, 1.0);
        ((ObjectNode) b.get("train")).put("steps", 200);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SeedGroups.of(List.of(a, b)));
        assertTrue(e.getMessage().contains("e/m") && e.getMessage().contains("train.steps (600 vs 200)")
                && e.getMessage().contains("not only in seed"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");

        ObjectNode c = run("e", "m", 3, 100, 1.0);
        ((ObjectNode) c.get("model_config")).put("positional", "rope");
        e = assertThrows(IllegalArgumentException.class, () -> SeedGroups.of(List.of(a, c)));
        assertTrue(e.getMessage().contains("model_config.positional"), e.getMessage());

        ObjectNode d = run("e", "m", 4, 100, 1.0);
        ((ObjectNode) d.get("eval")).remove("samples");
        e = assertThrows(IllegalArgumentException.class, () -> SeedGroups.of(List.of(a, d)));
        assertTrue(e.getMessage().contains("eval.samples (100 vs absent)"), e.getMessage());
    }

    @Test
    void mergeAndPlotSayItInOneLine(@TempDir Path tmp) {
        ObjectNode a = run("e", "m", 1, 100, 1.0), b = run("e", "m", 2, 100, 1.0);
        ((ObjectNode) b.get("eval")).put("lengths", "2..40:2");
        ResultsIO.write(tmp.resolve("a/result.json"), a);
        ResultsIO.write(tmp.resolve("b/result.json"), b);
        for (String cmd : List.of("merge", "plot")) {
            java.io.PrintStream old = System.err;
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            System.setErr(new java.io.PrintStream(buf, true));
            int rc;
            try {
                rc = parrot.cli.Main.run(cmd, tmp.toString(), "--out", tmp.resolve("out-" + cmd).toString());
            } finally {
                System.setErr(old);
            }
            String err = buf.toString().strip();
            assertEquals(2, rc, cmd + ": " + err);
            assertTrue(err.startsWith("parrot: e/m: seed 1") && err.contains("eval.lengths (\"2..30:2\" vs \"2..40:2\")"), err);
            assertEquals(1, err.lines().count(), err);
            assertFalse(java.nio.file.Files.exists(tmp.resolve("out-" + cmd)), cmd + " wrote nothing");
        }
    }

    @Test
    void bookkeepingDoesNotSplitAGroup() {
        ObjectNode a = run("e", "m", 1, 100, 1.0), b = run("e", "m", 2, 100, 0.5);
        ((ObjectNode) b.get("train")).put("device", "cuda").put("log_every", 10).put("checkpoint_every", 100);
        b.put("git_commit", "another").put("backend", "cuda");
        List<SeedGroups.Group> g = SeedGroups.of(List.of(a, b, run("e", "n", 1, 100, 0.0)));
        assertEquals(2, g.size());
        assertEquals(List.of(1L, 2L), g.get(0).seeds());
        assertEquals(0.75, g.get(0).across(r -> java.util.Map.of(1.0, r.get("accuracy"))).get(1.0).mean(), 1e-12);
    }
}
