package parrot.results;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The capacity figure measures copy runs only, one point per state size, next to the bound. */
class CapacityChartTest {

    /** A fixed-state run whose string accuracy is 1 up to {@code copied} and 0 beyond, over lengths 10..60. */
    private static ObjectNode run(String taskType, long bits, int copied) {
        ObjectNode r = ResultsIO.JSON.createObjectNode();
        r.putObject("task").put("type", taskType);
        r.put("state_bits", bits).put("copy_bound_length", (bits + 1) / 4.7);
        ArrayNode acc = r.putArray("accuracy");
        for (int len = 10; len <= 60; len += 10)
            acc.addObject().put("length", len).put("string_accuracy", len <= copied ? 1.0 : 0.0);
        return r;
    }

    @Test
    void lookupAndPhonebookRunsDoNotCount() {
        XYChart c = Plots.capacityChart(List.of(run("copy", 1024, 20), run("lookup-prefix", 1024, 60),
                run("phonebook", 1024, 0), run("copy", 4096, 40)));
        var measured = c.getSeriesMap().get("measured (max over evaluated lengths)");
        assertArrayEquals(new double[]{1024, 4096}, measured.getXData());
        assertArrayEquals(new double[]{20, 40}, measured.getYData());
        assertNull(Plots.capacityChart(List.of(run("lookup-suffix", 1024, 60))), "no copy run: no figure");
    }
}
