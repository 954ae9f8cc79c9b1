package parrot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the golden PyTorch fixtures (scripts/make_fixtures.py) and compares arrays with a relative bound. */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    public static JsonNode read(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
            if (in == null) throw new IllegalStateException("missing fixture " + name);
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static double[] doubles(JsonNode n) {
        JsonNode data = n.has("data") ? n.get("data") : n;
        double[] v = new double[data.size()];
        for (int i = 0; i < v.length; i++) v[i] = data.get(i).asDouble();
        return v;
    }

    public static int[] ints(JsonNode n) {
        int[] v = new int[n.size()];
        for (int i = 0; i < v.length; i++) v[i] = n.get(i).asInt();
        return v;
    }

    public static int[] shape(JsonNode n) {
        return ints(n.get("shape"));
    }

    /** |a − e| ≤ rel·max(|e|, floor) elementwise, with the worst element named on failure. */
    public static void assertClose(String what, double[] expected, double[] actual, double rel, double floor) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
            if (!(err <= worst)) {
                worst = err;
                at = i;
            }
        }
        final double w = worst;
        final int a = at;
        assertTrue(w <= rel, () -> what + ": element " + a + " expected " + expected[a] + " got " + actual[a]
                + " (relative error " + w + " > " + rel + ")");
    }
}
