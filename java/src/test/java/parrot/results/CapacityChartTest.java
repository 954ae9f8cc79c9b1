package parrot.results;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The capacity figure: copy runs only, both axes logarithmic, measured points beside the bound. */
class CapacityChartTest {

    /** A fixed-state run whose string accuracy is 1 up to {@code copied} and 0 beyond, over lengths 10..60. */
    private static ObjectNode run(String model, long seed, String taskType, long bits, int copied) {
        ObjectNode r = ResultsIO.JSON.createObjectNode();
        r.put("experiment", "cap").put("model", model).put("seed", seed);
        r.putObject("model_config").put("family", "mamba");
        r.putObject("task").put("type", taskType).put("lengths", "1..10");
        r.put("state_bits", bits).put("copy_bound_length", (long) ((bits + 1) / 4.7));
        ArrayNode acc = r.putArray("accuracy");
        for (int len = 10; len <= 60; len += 10)
            acc.addObject().put("length", len).put("samples", 100).put("string_accuracy", len <= copied ? 1.0 : 0.0);
        return r;
    }

    private static XYChart chart(ObjectNode... runs) {
        return Plots.capacityChart(SeedGroups.of(List.of(runs)));
    }

    @Test
    void logAxesMeasuredPointsAndTheBound() {
        XYChart c = chart(run("a", 1, "copy", 1024, 20), run("a", 2, "copy", 1024, 40), run("a", 3, "copy", 1024, 30),
                run("lp", 1, "lookup-prefix", 2048, 60), run("pb", 1, "phonebook", 2048, 0), run("b", 1, "copy", 100_000, 0));
        assertTrue(c.getStyler().isXAxisLogarithmic(), "state bits on a log axis");
        assertTrue(c.getStyler().isYAxisLogarithmic(), "lengths on a log axis: a measured 10 beside a bound of 20,000");
        XYSeries measured = c.getSeriesMap().get("cap: mamba (measured, 3 seeds: mean, min..max)");
        assertNotNull(measured, c.getSeriesMap().keySet().toString());
        // lookup and phone-book runs do not count; seeds 20/40/30 → mean 30; 0 drawn at the floor of the log axis.
        assertArrayEquals(new double[]{1024, 100_000}, measured.getXData());
        assertArrayEquals(new double[]{30, Plots.CAPACITY_FLOOR}, measured.getYData());
        XYSeries band = c.getSeriesMap().get("cap: mamba (measured, 3 seeds: mean, min..max)" + Plots.BAND_SUFFIX);
        assertEquals(XYSeries.XYSeriesRenderStyle.PolygonArea, band.getXYSeriesRenderStyle());
        assertArrayEquals(new double[]{40, Plots.CAPACITY_FLOOR, Plots.CAPACITY_FLOOR, 20}, band.getYData(), "min..max over seeds");
        XYSeries bound = c.getSeriesMap().values().stream().filter(s -> s.getName().startsWith("Corollary 2.8")).findFirst().orElseThrow();
        assertArrayEquals(new double[]{(long) (1025 / 4.7), (long) (100_001 / 4.7)}, bound.getYData());
        assertTrue(c.getSeriesMap().containsKey("trained on lengths 1..10"), "learning and capacity on the same axes");
        assertTrue(c.getYAxisTitle().contains("0 drawn at 0.5"), c.getYAxisTitle());
        assertNull(chart(run("ls", 1, "lookup-suffix", 1024, 60)), "no copy run: no figure");
    }
}
