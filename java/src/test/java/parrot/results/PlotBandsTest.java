package parrot.results;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import parrot.eval.Wilson;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static parrot.results.RunFixtures.probe;
import static parrot.results.RunFixtures.run;

/** Every line is a mean with a band behind it (min..max over seeds, or one seed's Wilson interval). */
class PlotBandsTest {
    private static final Palette PALETTE = new Palette(List.of("hard-alibi", "nope", "zeta"));

    private static XYSeries series(XYChart c, String prefix) {
        return c.getSeriesMap().values().stream().filter(s -> s.getName().startsWith(prefix) && !s.getName().endsWith(Plots.BAND_SUFFIX))
                .findFirst().orElseThrow(() -> new AssertionError(prefix + " not in " + c.getSeriesMap().keySet()));
    }

    private static XYSeries band(XYChart c, XYSeries line) {
        XYSeries b = c.getSeriesMap().get(line.getName() + Plots.BAND_SUFFIX);
        assertNotNull(b, "no band for " + line.getName());
        assertEquals(XYSeries.XYSeriesRenderStyle.PolygonArea, b.getXYSeriesRenderStyle());
        assertFalse(b.isShowInLegend(), "bands stay out of the legend");
        return b;
    }

    @Test
    void lengthChartBandsSeedsAndOneSeedsInterval() {
        List<SeedGroups.Group> gs = SeedGroups.of(List.of(
                run("e", "hard-alibi", 1, 100, 1.0, 0.6), run("e", "hard-alibi", 2, 100, 0.9, 0.2),
                run("e", "nope", 1, 20, 0.35, 0.0)));
        XYChart c = Plots.lengthChart("e", gs, PALETTE);
        XYSeries ha = series(c, "hard-alibi (2 seeds)");
        assertArrayEquals(new double[]{2, 4}, ha.getXData());
        assertArrayEquals(new double[]{0.95, 0.4}, ha.getYData(), 1e-12);
        // The polygon runs along the upper edge, then back along the lower one.
        assertArrayEquals(new double[]{2, 4, 4, 2}, band(c, ha).getXData());
        assertArrayEquals(new double[]{1.0, 0.6, 0.2, 0.9}, band(c, ha).getYData(), 1e-12);
        XYSeries nope = series(c, "nope (1 seed)");
        Wilson w7 = Wilson.of(7, 20), w0 = Wilson.of(0, 20);
        assertArrayEquals(new double[]{w7.hi(), w0.hi(), w0.lo(), w7.lo()}, band(c, nope).getYData(), 1e-12);
        assertTrue(c.getYAxisTitle().contains("min..max over seeds, 95% Wilson with one seed"), c.getYAxisTitle());
        assertTrue(c.getTitle().contains("copy, trained on lengths 1..10"), "the title names task and training range: " + c.getTitle());
        assertTrue(c.getSeriesMap().containsKey("training lengths 1..10"));
    }

    @Test
    void examplesChartMarksWhereNinetyPercentIsReached() {
        ObjectNode a = run("copy", "hard-alibi", 1, 100, 1.0), b = run("copy", "hard-alibi", 2, 100, 1.0);
        probe(a, 100, 3000, 0.5, 0.5);
        probe(a, 200, 6000, 1.0, 1.0);
        probe(b, 100, 3100, 1.0, 0.8);
        probe(b, 200, 6100, 1.0, 1.0);
        XYChart c = Plots.examplesChart("copy", SeedGroups.of(List.of(a, b)), PALETTE);
        XYSeries line = series(c, "hard-alibi, 90%: 4.55k examples (3.10k..6.00k)");
        assertArrayEquals(new double[]{3050, 6050}, line.getXData(), 1e-9);
        assertArrayEquals(new double[]{0.7, 1.0}, line.getYData(), 1e-12);
        assertArrayEquals(new double[]{0.9, 1.0, 1.0, 0.5}, band(c, line).getYData(), 1e-12);
        XYSeries mark = c.getSeriesMap().get("hard-alibi reaches 90%");
        assertArrayEquals(new double[]{3100, 4550, 6000}, mark.getXData(), 1e-9);
        assertTrue(c.getTitle().contains("probed at 5, 10, n = 20"), c.getTitle());
        assertTrue(c.getYAxisTitle().contains("min..max over 2 seeds"), c.getYAxisTitle());
    }

    @Test
    void oneColourPerModelInEveryFigure() {
        List<SeedGroups.Group> gs = SeedGroups.of(List.of(run("e", "zeta", 1, 100, 1.0), run("e", "nope", 1, 100, 1.0)));
        List<SeedGroups.Group> other = SeedGroups.of(List.of(run("f", "nope", 1, 100, 0.0), run("f", "zeta", 1, 100, 0.5)));
        XYChart c1 = Plots.lengthChart("e", gs, PALETTE), c2 = Plots.lengthChart("f", other, PALETTE);
        for (String m : List.of("zeta", "nope"))
            assertEquals(series(c1, m).getLineColor(), series(c2, m).getLineColor(), m);
        assertNotEquals(series(c1, "zeta").getLineColor(), series(c1, "nope").getLineColor());
        assertEquals(new Palette(List.of("mamba")).of("mamba"), new Palette(List.of("x", "mamba", "y")).of("mamba"),
                "the paper's models keep their colour whatever else is plotted");
    }
}
