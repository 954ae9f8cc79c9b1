package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static parrot.results.RunFixtures.probe;
import static parrot.results.RunFixtures.run;

/** Training examples to 90% string accuracy at the probe lengths: per seed, and across seeds. */
class ExamplesToTargetTest {
    @Test
    void firstPointWhosePooledAccuracyReachesTheTarget() {
        ObjectNode r = run("copy", "m", 1, 100, 1.0);
        probe(r, 100, 3200, 0.5, 0.0);
        probe(r, 200, 6400, 1.0, 0.75);  // pooled 35/40 = 0.875: not yet (the mean of lengths would be the same here)
        probe(r, 300, 9600, 1.0, 0.80);  // pooled 36/40 = 0.90: reached
        probe(r, 400, 12800, 0.8, 0.80); // dipping afterwards does not move the first crossing
        assertEquals(9600L, ExamplesToTarget.firstReaching(r.get("eval_curve"), 0.9));
        assertNull(ExamplesToTarget.firstReaching(r.get("eval_curve"), 0.95));
    }

    @Test
    void acrossSeedsWithOneThatNeverGetsThere() {
        ObjectNode a = run("copy", "m", 1, 100, 1.0), b = run("copy", "m", 2, 100, 1.0), c = run("copy", "m", 3, 100, 1.0);
        probe(a, 100, 3000, 1.0, 0.9);
        probe(b, 100, 3100, 0.5, 0.5);
        probe(b, 200, 6100, 1.0, 1.0);
        probe(c, 100, 3200, 0.0, 0.0);
        probe(c, 200, 6200, 0.5, 0.5);
        SeedGroups.Group g = SeedGroups.of(List.of(a, b, c)).get(0);
        ExamplesToTarget x = ExamplesToTarget.of(g, ExamplesToTarget.PAPER_TARGET);
        assertEquals(Arrays.asList(3000L, 6100L, null), x.perSeed());
        assertEquals(List.of(3000L, 6100L), x.reached());
        assertEquals(4550, x.mean(), 1e-9);
        assertEquals(3000, x.min());
        assertEquals(6100, x.max());
        assertEquals("5, 10, n = 20", x.probe());
        assertTrue(x.summary().contains("2/3 seeds"), x.summary());

    }

    @Test
    void mergeWritesTheNumberIntoTheTable(@TempDir Path tmp) {
        ObjectNode a = run("copy", "m", 1, 100, 1.0), b = run("copy", "m", 2, 100, 1.0);
        probe(a, 100, 3000, 1.0, 0.9);
        probe(b, 100, 3100, 0.5, 0.5);
        ResultsIO.write(tmp.resolve("a/result.json"), a);
        ResultsIO.write(tmp.resolve("b/result.json"), b);
        JsonNode rows = ResultTable.merge(List.of(tmp)).get("examples_to_90");
        assertEquals(1, rows.size(), rows.toString());
        JsonNode row = rows.get(0);
        assertEquals("m", row.get("model").asText());
        assertEquals(3000, row.get("per_seed").get(0).asLong());
        assertTrue(row.get("per_seed").get(1).isNull());
        assertEquals(1, row.get("seeds_reached").asInt());
        assertEquals(3000, row.get("mean").asDouble());
        assertEquals(60000, row.get("trained_for").asLong());
    }

    @Test
    void noCurveNoNumberAndNeverReachedSaysHowFarItLooked() {
        ObjectNode a = run("copy", "m", 1, 100, 1.0);
        assertNull(ExamplesToTarget.of(SeedGroups.of(List.of(a)).get(0), 0.9));
        probe(a, 100, 3000, 0.1, 0.0);
        ExamplesToTarget x = ExamplesToTarget.of(SeedGroups.of(List.of(a)).get(0), 0.9);
        assertTrue(Double.isNaN(x.mean()));
        assertEquals("not reached in 60,000 examples (0/1 seeds)", x.summary());
        assertEquals("not reached in 60.0k", x.shortSummary());
    }
}
