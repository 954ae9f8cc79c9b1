package parrot.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import parrot.results.ResultsIO;

import static org.junit.jupiter.api.Assertions.*;

/** The 95% Wilson interval against published values, its edges, and how it travels in result JSON. */
class WilsonTest {
    private static void assertInterval(double lo, double hi, Wilson w) {
        assertEquals(lo, w.lo(), 5e-5, "lo of " + w);
        assertEquals(hi, w.hi(), 5e-5, "hi of " + w);
    }

    @Test
    void knownValues() {
        // z = 1.96; 0/n has upper bound z²/(n + z²).
        assertInterval(0.2366, 0.7634, Wilson.of(5, 10));
        assertInterval(0.0, 0.2775, Wilson.of(0, 10));
        assertInterval(0.7225, 1.0, Wilson.of(10, 10));
        assertInterval(0.0, 0.1611, Wilson.of(0, 20));   // z²/(n+z²): "0 of 20" is not "certainly 0"
        assertInterval(0.0, 0.0370, Wilson.of(0, 100));
        assertInterval(0.4038, 0.5962, Wilson.of(50, 100));
        // Newcombe (1998), Statistics in Medicine 17:857, Table II, method 3 (Wilson score, no continuity correction).
        assertInterval(0.2553, 0.3662, Wilson.of(81, 263));
        assertInterval(0.0624, 0.1605, Wilson.of(15, 148));
        assertInterval(0.0061, 0.1718, Wilson.of(1, 29));
        assertInterval(0.8830, 1.0, Wilson.of(29, 29));
    }

    @Test
    void symmetricAndInsideTheUnitInterval() {
        for (int n = 1; n <= 40; n++)
            for (int k = 0; k <= n; k++) {
                Wilson w = Wilson.of(k, n), m = Wilson.of(n - k, n);
                assertTrue(0 <= w.lo() && w.lo() <= (double) k / n && (double) k / n <= w.hi() && w.hi() <= 1, k + "/" + n);
                assertEquals(w.lo(), 1 - m.hi(), 1e-12, "mirror of " + k + "/" + n);
            }
        assertTrue(Wilson.of(50, 100).hi() - Wilson.of(50, 100).lo() < Wilson.of(10, 20).hi() - Wilson.of(10, 20).lo(),
                "more strings, narrower interval");
    }

    @Test
    void noTrialsIsTheWholeIntervalAndBadCountsAreRefused() {
        assertEquals(new Wilson(0, 1), Wilson.of(0, 0));
        assertEquals(new Wilson(0, 1), Wilson.ofAccuracy(0.0, 0));
        assertEquals(new Wilson(0, 1), new LengthResult(5, 0, 0, 0).stringInterval());
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(3, 2));
        assertThrows(IllegalArgumentException.class, () -> Wilson.of(-1, 2));
    }

    @Test
    void resultJsonCarriesTheIntervalAndReadsBack() throws Exception {
        LengthResult r = new LengthResult(10, 20, 0.35, 0.8);
        JsonNode j = ResultsIO.JSON.valueToTree(r);
        assertEquals(20, j.get("samples").asInt());
        assertEquals(Wilson.of(7, 20).lo(), j.get("string_accuracy_lo").asDouble(), 1e-15);
        assertEquals(Wilson.of(7, 20).hi(), j.get("string_accuracy_hi").asDouble(), 1e-15);
        // Reading ignores the written interval (it is recomputed), so a result can never disagree with itself.
        assertEquals(r, ResultsIO.JSON.treeToValue(j, LengthResult.class));
    }
}
