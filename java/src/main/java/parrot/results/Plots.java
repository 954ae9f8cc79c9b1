package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The paper's figures from result JSON, as PNG (XChart, headless). Per experiment: string accuracy against
 * training examples seen (from eval_curve, with where each model reached 90%), accuracy against length with
 * the training range shaded, and, where eval.tasks held duplicated-n-gram copies, accuracy against n. Across
 * experiments: the lookup panels and capacity (longest length copied against state bits, beside Corollary
 * 2.8's bound, both axes logarithmic) when runs carry state_bits.
 *
 * <p>Every line is the mean over a model's seeds with a shaded band: min..max across seeds, or with one seed
 * the 95% Wilson interval of its strings ({@link Across#band}); the y-axis title says which. A model has the
 * same colour in every figure ({@link Palette}); legends sit outside the plot area.
 */
public final class Plots {
    public static final int WIDTH = 800, HEIGHT = 520;
    /** Band fill opacity (of 255). */
    static final int BAND_ALPHA = 55;
    static final String BAND_SUFFIX = " band";

    /** What {@link #write} made, and what it passed over and why. */
    public record Report(List<Path> written, List<String> skipped) {
    }

    private Plots() {
    }

    public static Report write(List<ObjectNode> runs, Path outDir) {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<SeedGroups.Group> groups = SeedGroups.of(runs);
        Palette palette = new Palette(groups.stream().map(SeedGroups.Group::model).toList());
        try {
            Files.createDirectories(outDir);
            Map<String, List<SeedGroups.Group>> byExp = new LinkedHashMap<>();
            for (SeedGroups.Group g : groups) byExp.computeIfAbsent(g.experiment(), k -> new ArrayList<>()).add(g);
            // Legend order: the paper's models first, then by state size and parameters (lstm-h2 before lstm-h16).
            java.util.Comparator<SeedGroups.Group> order = java.util.Comparator
                    .comparingInt((SeedGroups.Group g) -> Palette.rank(g.model()))
                    .thenComparingLong(g -> g.first().path("state_bits").asLong())
                    .thenComparingLong(g -> g.first().path("parameters").asLong())
                    .thenComparing(SeedGroups.Group::model);
            byExp.values().forEach(gs -> gs.sort(order));
            for (var e : byExp.entrySet()) {
                String exp = e.getKey();
                List<SeedGroups.Group> gs = e.getValue();
                XYChart curve = examplesChart(exp, gs, palette);
                if (curve != null) written.add(save(curve, outDir.resolve(exp + "-accuracy-vs-examples.png")));
                else skipped.add(exp + ": no eval_curve (set train.eval_every) for accuracy against examples seen");
                XYChart len = lengthChart(exp, gs, palette);
                if (len != null) written.add(save(len, outDir.resolve(exp + "-accuracy-vs-length.png")));
                XYChart dup = dupNgramChart(exp, gs, palette);
                if (dup != null) written.add(save(dup, outDir.resolve(exp + "-dup-ngram.png")));
            }
            List<XYChart> lookups = new ArrayList<>();
            for (var e : byExp.entrySet()) {
                String type = e.getValue().get(0).first().path("task").path("type").asText();
                if (type.startsWith("lookup-")) {
                    XYChart c = lengthChart(e.getKey(), e.getValue(), palette);
                    if (c != null) lookups.add(c);
                }
            }
            if (!lookups.isEmpty()) {
                Path f = outDir.resolve("lookup.png");
                BitmapEncoder.saveBitmap(lookups, 1, lookups.size(), f.toString(), BitmapEncoder.BitmapFormat.PNG);
                written.add(f);
            }
            XYChart cap = capacityChart(groups);
            if (cap != null) written.add(save(cap, outDir.resolve("capacity.png")));
            else skipped.add("capacity: no run has state_bits/copy_bound_length (they come with the mamba/lstm families)");
        } catch (IOException e) {
            throw new UncheckedIOException("writing plots to " + outDir, e);
        }
        return new Report(written, skipped);
    }

    private static Path save(XYChart c, Path file) throws IOException {
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
        var s = c.getStyler();
        // Outside the plot area: a legend never covers data.
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotGridLinesColor(new Color(225, 225, 225));
        s.setYAxisMin(-0.02);
        s.setYAxisMax(1.02);
        s.setYAxisDecimalPattern("0.0");
        s.setMarkerSize(7);
        return c;
    }

    /**
     * Legends sit outside the plot, so they never cover data: one row below it when the entries fit the width,
     * else a column below (up to 6 entries) or on the right.
     */
    static void fitLegend(XYChart c) {
        List<String> shown = c.getSeriesMap().values().stream().filter(XYSeries::isShowInLegend).map(XYSeries::getName).toList();
        int width = shown.stream().mapToInt(n -> 7 * n.length() + 45).sum();
        if (width <= WIDTH - 30) return;
        c.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        c.getStyler().setLegendPosition(shown.size() <= 6 ? Styler.LegendPosition.OutsideS : Styler.LegendPosition.OutsideE);
    }

    /** What the bands are, for the y-axis title. */
    static String bandNote(List<SeedGroups.Group> gs) {
        int most = gs.stream().mapToInt(g -> g.runs().size()).max().orElse(1);
        int least = gs.stream().mapToInt(g -> g.runs().size()).min().orElse(1);
        if (most == 1) return "1 seed; band: 95% Wilson interval";
        if (least == most) return "mean; band: min..max over " + most + " seeds";
        return "mean; band: min..max over seeds, 95% Wilson with one seed";
    }

    /** " (3 seeds)" when the models of a figure have different numbers of seeds; else the axis title says it. */
    private static String seedsNote(SeedGroups.Group g, List<SeedGroups.Group> gs) {
        if (gs.stream().mapToInt(x -> x.runs().size()).distinct().count() == 1) return "";
        int n = g.runs().size();
        return n > 1 ? " (" + n + " seeds)" : " (1 seed)";
    }

    /** The mean line of a measurement across seeds, with its band (not in the legend) behind it. */
    static void addMean(XYChart c, String name, Color colour, Marker marker, TreeMap<Double, Across> pts,
                        java.util.function.DoubleUnaryOperator xOf, double floor) {
        if (pts.isEmpty()) return;
        int k = pts.size();
        double[] xs = new double[k], ys = new double[k], poly = new double[2 * k], polyY = new double[2 * k];
        int i = 0;
        for (var e : pts.entrySet()) {
            double x = xOf.applyAsDouble(e.getKey());
            double[] b = e.getValue().band();
            xs[i] = x;
            ys[i] = Math.max(floor, e.getValue().mean());
            poly[i] = x;
            polyY[i] = Math.max(floor, b[1]);
            poly[2 * k - 1 - i] = x;
            polyY[2 * k - 1 - i] = Math.max(floor, b[0]);
            i++;
        }
        XYSeries band = c.addSeries(name + BAND_SUFFIX, poly, polyY);
        band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
        band.setFillColor(Palette.translucent(colour, BAND_ALPHA));
        band.setLineColor(Palette.translucent(colour, 0));
        band.setMarker(SeriesMarkers.NONE);
        band.setShowInLegend(false);
        XYSeries s = c.addSeries(name, xs, ys);
        s.setLineStyle(SeriesLines.SOLID);
        s.setLineColor(colour);
        s.setMarkerColor(colour);
        s.setMarker(marker);
    }

    static XYChart examplesChart(String exp, List<SeedGroups.Group> gs, Palette palette) {
        if (gs.stream().flatMap(g -> g.runs().stream()).noneMatch(r -> r.path("eval_curve").size() > 0)) return null;
        JsonNode first = gs.get(0).first();
        String probe = "";
        for (SeedGroups.Group g : gs) {
            ExamplesToTarget x = ExamplesToTarget.of(g, ExamplesToTarget.PAPER_TARGET);
            if (x != null) {
                probe = x.probe();
                break;
            }
        }
        XYChart c = chart(exp + ": " + taskLabel(first.path("task")) + "; probed at " + probe,
                "training examples seen", "string accuracy (" + bandNote(gs) + ")");
        double lo = Double.MAX_VALUE, hi = 0;
        for (SeedGroups.Group g : gs)
            for (JsonNode r : g.runs())
                for (JsonNode p : r.path("eval_curve")) {
                    lo = Math.min(lo, p.path("examples_seen").asDouble());
                    hi = Math.max(hi, p.path("examples_seen").asDouble());
                }
        if (lo > 0 && hi / lo >= 100) { // a log axis labels only powers of ten: use it when the data spans two
            c.getStyler().setXAxisLogarithmic(true);
            c.getStyler().setXAxisDecimalPattern("0.#E0");
        } else {
            c.getStyler().setXAxisDecimalPattern("#,##0");
        }
        AnnotationLine target = new AnnotationLine(ExamplesToTarget.PAPER_TARGET, false, false);
        c.getStyler().setAnnotationLineColor(Color.GRAY);
        c.getStyler().setAnnotationLineStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[]{4f, 4f}, 0f));
        c.addAnnotation(target);
        for (SeedGroups.Group g : gs) {
            if (g.runs().stream().noneMatch(r -> r.path("eval_curve").size() > 0)) continue;
            // Seeds see slightly different example counts at a step: x is the mean over seeds at that step.
            TreeMap<Double, double[]> examples = new TreeMap<>();
            for (JsonNode r : g.runs())
                for (JsonNode p : r.path("eval_curve")) {
                    double[] v = examples.computeIfAbsent(p.path("step").asDouble(), k -> new double[2]);
                    v[0] += p.path("examples_seen").asDouble();
                    v[1]++;
                }
            TreeMap<Double, Across> pts = g.across(r -> {
                Map<Double, JsonNode> m = new TreeMap<>();
                for (JsonNode p : r.path("eval_curve")) m.put(p.path("step").asDouble(), p.path("accuracy"));
                return m;
            });
            Color colour = palette.of(g.model());
            ExamplesToTarget x = ExamplesToTarget.of(g, ExamplesToTarget.PAPER_TARGET);
            String name = g.model() + seedsNote(g, gs) + ", 90%: " + x.shortSummary();
            addMean(c, name, colour, SeriesMarkers.CIRCLE, pts, step -> Math.max(1, examples.get(step)[0] / examples.get(step)[1]), -1);
            if (!x.reached().isEmpty()) {
                // Where it reached 90%: a diamond at the mean, a bar over the seeds' spread.
                XYSeries at = c.addSeries(g.model() + " reaches 90%", new double[]{x.min(), x.mean(), x.max()},
                        new double[]{ExamplesToTarget.PAPER_TARGET, ExamplesToTarget.PAPER_TARGET, ExamplesToTarget.PAPER_TARGET});
                at.setLineColor(colour);
                at.setLineStyle(new BasicStroke(4f));
                at.setMarker(SeriesMarkers.DIAMOND);
                at.setMarkerColor(colour);
                at.setShowInLegend(false);
            }
        }
        fitLegend(c);
        return c;
    }

    static XYChart lengthChart(String exp, List<SeedGroups.Group> gs, Palette palette) {
        if (gs.stream().flatMap(g -> g.runs().stream()).noneMatch(r -> r.path("accuracy").size() > 0)) return null;
        JsonNode task = gs.get(0).first().path("task");
        boolean phone = task.path("type").asText().equals("phonebook");
        int n = gs.get(0).first().path("accuracy").path(0).path("samples").asInt();
        XYChart c = chart(exp + ": " + taskLabel(task) + " (n = " + n + " a length)",
                phone ? "entries in the phone book" : "string length", "string accuracy (" + bandNote(gs) + ")");
        int[] train = range(task.path("lengths").asText());
        if (train != null) {
            XYSeries shade = c.addSeries("training " + (phone ? "entries " : "lengths ") + train[0] + ".." + train[1],
                    new double[]{train[0], train[0], train[1], train[1]}, new double[]{-0.02, 1.02, 1.02, -0.02});
            shade.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
            shade.setFillColor(new Color(200, 200, 200, 90));
            shade.setLineColor(new Color(200, 200, 200, 0));
            shade.setMarker(SeriesMarkers.NONE);
        }
        for (SeedGroups.Group g : gs)
            addMean(c, g.model() + seedsNote(g, gs), palette.of(g.model()), SeriesMarkers.CIRCLE, g.across(r -> {
                Map<Double, JsonNode> pts = new TreeMap<>();
                for (JsonNode a : r.path("accuracy")) pts.put(a.path("length").asDouble(), ResultsIO.JSON.createArrayNode().add(a));
                return pts;
            }), x -> x, -1);
        fitLegend(c);
        return c;
    }

    static XYChart dupNgramChart(String exp, List<SeedGroups.Group> gs, Palette palette) {
        boolean any = gs.stream().flatMap(g -> g.runs().stream()).anyMatch(r -> {
            for (JsonNode t : r.path("task_accuracy"))
                if (t.path("task").path("type").asText().equals("copy-dup-ngram")) return true;
            return false;
        });
        if (!any) return null;
        JsonNode first = gs.get(0).first();
        String lengths = first.path("eval").path("lengths").asText();
        XYChart c = chart(exp + ": copy with one duplicated n-gram at length " + lengths + ", trained on lengths "
                        + first.path("task").path("lengths").asText(), "n (length of the duplicated n-gram)",
                "string accuracy (" + bandNote(gs) + ")");
        for (SeedGroups.Group g : gs)
            addMean(c, g.model() + seedsNote(g, gs), palette.of(g.model()), SeriesMarkers.CIRCLE, g.across(r -> {
                Map<Double, JsonNode> pts = new TreeMap<>();
                for (JsonNode t : r.path("task_accuracy"))
                    if (t.path("task").path("type").asText().equals("copy-dup-ngram"))
                        pts.put(t.path("task").path("ngram").asDouble(), t.path("accuracy"));
                return pts;
            }), x -> x, -1);
        fitLegend(c);
        return c;
    }

    /** A measured length of 0 (not even the shortest length copied) is drawn here on the log axis. */
    static final double CAPACITY_FLOOR = 0.5;

    /**
     * Longest evaluated length copied with string accuracy ≥ 0.5 (per seed; mean and min..max), against state
     * bits, one series per (experiment, family); and Corollary 2.8's bound. Both axes are logarithmic, so a
     * measured 10 and a bound of 30,000 are both readable. Only copy runs: the bound is about copying, and a
     * lookup or phone-book run's lengths mean something else.
     */
    static XYChart capacityChart(List<SeedGroups.Group> groups) {
        Map<String, List<SeedGroups.Group>> series = new LinkedHashMap<>();
        TreeMap<Double, Double> bound = new TreeMap<>();
        for (SeedGroups.Group g : groups) {
            JsonNode r = g.first();
            if (!(r.hasNonNull("state_bits") && r.hasNonNull("copy_bound_length") && r.path("state_bits").asLong() > 0
                    && r.path("task").path("type").asText("copy").equals("copy")))
                continue;
            String family = r.path("model_config").path("family").asText("mamba");
            series.computeIfAbsent(g.experiment() + "|" + family, k -> new ArrayList<>()).add(g);
            bound.put(r.path("state_bits").asDouble(), r.path("copy_bound_length").asDouble());
        }
        if (series.isEmpty()) return null;
        XYChart c = chart("copy capacity: longest length with string accuracy >= 0.5 vs state bits",
                "state bits (log)", "longest length copied (log)");
        var s = c.getStyler();
        s.setYAxisMin(null);
        s.setYAxisMax(null);
        s.setXAxisLogarithmic(true);
        s.setYAxisLogarithmic(true);
        s.setXAxisDecimalPattern("0E0");
        s.setYAxisDecimalPattern("#,##0.#");
        s.setMarkerSize(9);
        XYSeries b = c.addSeries("Corollary 2.8 bound (error > 1/2 beyond)", bound.keySet().stream().mapToDouble(Double::doubleValue).toArray(),
                bound.values().stream().mapToDouble(Double::doubleValue).toArray());
        b.setMarker(SeriesMarkers.NONE);
        b.setLineColor(Color.BLACK);
        b.setLineStyle(SeriesLines.DASH_DASH);
        // The lengths the models were trained on, across the figure: learning and capacity on the same axes.
        int trainLo = Integer.MAX_VALUE, trainHi = 0;
        for (List<SeedGroups.Group> gs : series.values())
            for (SeedGroups.Group g : gs) {
                int[] t = range(g.first().path("task").path("lengths").asText());
                if (t != null) {
                    trainLo = Math.min(trainLo, t[0]);
                    trainHi = Math.max(trainHi, t[1]);
                }
            }
        if (trainHi > 0) {
            double x0 = bound.firstKey() / 1.3, x1 = bound.lastKey() * 1.3;
            double ylo = Math.max(CAPACITY_FLOOR, trainLo);
            XYSeries shade = c.addSeries("trained on lengths " + trainLo + ".." + trainHi,
                    new double[]{x0, x1, x1, x0}, new double[]{ylo, ylo, trainHi, trainHi});
            shade.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
            shade.setFillColor(new Color(200, 200, 200, 110));
            shade.setLineColor(new Color(200, 200, 200, 0));
            shade.setMarker(SeriesMarkers.NONE);
        }
        Marker[] markers = {SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE, SeriesMarkers.TRIANGLE_UP,
                SeriesMarkers.TRIANGLE_DOWN};
        Map<String, Integer> expIndex = new LinkedHashMap<>();
        boolean clamped = false;
        for (var e : series.entrySet()) {
            String[] key = e.getKey().split("\\|", 2);
            TreeMap<Double, Across> pts = new TreeMap<>();
            for (SeedGroups.Group g : e.getValue()) {
                List<Long> seeds = new ArrayList<>();
                List<Double> longest = new ArrayList<>();
                for (JsonNode r : g.runs()) {
                    int best = 0;
                    for (JsonNode a : r.path("accuracy"))
                        if (a.path("string_accuracy").asDouble() >= 0.5) best = Math.max(best, a.path("length").asInt());
                    seeds.add(r.path("seed").asLong());
                    longest.add((double) best);
                    clamped |= best == 0;
                }
                // One seed has no interval for a longest length: the band collapses to the point.
                Across a = new Across(seeds, longest, 0, 0);
                if (longest.size() == 1) a = new Across(List.of(seeds.get(0), seeds.get(0)), List.of(longest.get(0), longest.get(0)), 0, 0);
                pts.put(g.first().path("state_bits").asDouble(), a);
            }
            int mi = expIndex.computeIfAbsent(key[0], k -> expIndex.size());
            int seeds = e.getValue().stream().mapToInt(g -> g.runs().size()).max().orElse(1);
            addMean(c, key[0] + ": " + key[1] + " (measured, " + (seeds > 1 ? seeds + " seeds: mean, min..max)" : "1 seed)"), Palette.FAMILY.getOrDefault(key[1], Color.DARK_GRAY),
                    markers[mi % markers.length], pts, x -> x, CAPACITY_FLOOR);
        }
        c.setYAxisTitle("longest length copied (log" + (clamped ? "; 0 drawn at 0.5" : "") + ")");
        fitLegend(c);
        return c;
    }

    private static String taskLabel(JsonNode task) {
        String type = task.path("type").asText();
        return switch (type) {
            case "lookup-prefix", "lookup-suffix" -> type + " (n=" + task.path("ngram").asInt() + ", k="
                    + task.path("answer_length").asInt() + "), trained on lengths " + task.path("lengths").asText();
            case "copy-dup-ngram" -> type + " (n=" + task.path("ngram").asInt() + "), trained on lengths " + task.path("lengths").asText();
            case "phonebook" -> "phone book, trained on " + task.path("lengths").asText() + " entries";
            default -> type + ", trained on lengths " + task.path("lengths").asText();
        };
    }

    /** "lo..hi" or "n" → {lo, hi}; null if unreadable. */
    private static int[] range(String s) {
        try {
            String[] p = s.split(":")[0].split("\\.\\.");
            int lo = Integer.parseInt(p[0].strip()), hi = p.length > 1 ? Integer.parseInt(p[1].strip()) : lo;
            return new int[]{lo, hi};
        } catch (RuntimeException e) {
            return null;
        }
    }
}
