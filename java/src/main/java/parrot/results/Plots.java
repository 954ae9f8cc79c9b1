package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

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
import java.util.function.Function;

/**
 * The paper's figures from result JSON, as PNG (XChart, headless). Per experiment: string accuracy against
 * training examples seen (from eval_curve), accuracy against length with the training range shaded, and, where
 * eval.tasks held duplicated-n-gram copies, accuracy against n. Across experiments: the lookup panels (one per
 * lookup experiment, side by side) and capacity — the longest length copied against the state size, beside
 * Corollary 2.8's bound — when runs carry state_bits. Seeds of one model are averaged.
 */
public final class Plots {
    public static final int WIDTH = 800, HEIGHT = 520;

    /** What {@link #write} made, and what it passed over and why. */
    public record Report(List<Path> written, List<String> skipped) {
    }

    private Plots() {
    }

    public static Report write(List<ObjectNode> runs, Path outDir) {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        try {
            Files.createDirectories(outDir);
            Map<String, List<JsonNode>> byExp = new LinkedHashMap<>();
            for (JsonNode r : runs) byExp.computeIfAbsent(r.path("experiment").asText(), k -> new ArrayList<>()).add(r);
            for (var e : byExp.entrySet()) {
                String exp = e.getKey();
                List<JsonNode> rs = e.getValue();
                XYChart curve = examplesChart(exp, rs);
                if (curve != null) written.add(save(curve, outDir.resolve(exp + "-accuracy-vs-examples.png")));
                else skipped.add(exp + ": no eval_curve (set train.eval_every) for accuracy against examples seen");
                XYChart len = lengthChart(exp, rs);
                if (len != null) written.add(save(len, outDir.resolve(exp + "-accuracy-vs-length.png")));
                XYChart dup = dupNgramChart(exp, rs);
                if (dup != null) written.add(save(dup, outDir.resolve(exp + "-dup-ngram.png")));
            }
            List<XYChart> lookups = new ArrayList<>();
            for (var e : byExp.entrySet()) {
                String type = e.getValue().get(0).path("task").path("type").asText();
                if (type.startsWith("lookup-")) {
                    XYChart c = lengthChart(e.getKey(), e.getValue());
                    if (c != null) lookups.add(c);
                }
            }
            if (!lookups.isEmpty()) {
                Path f = outDir.resolve("lookup.png");
                BitmapEncoder.saveBitmap(lookups, 1, lookups.size(), f.toString(), BitmapEncoder.BitmapFormat.PNG);
                written.add(f);
            }
            XYChart cap = capacityChart(runs);
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
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotGridLinesColor(new Color(225, 225, 225));
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(1.0);
        c.getStyler().setYAxisDecimalPattern("0.0");
        return c;
    }

    /** Models of an experiment in config order, each with its runs (one per seed). */
    private static Map<String, List<JsonNode>> byModel(List<JsonNode> runs) {
        Map<String, List<JsonNode>> m = new LinkedHashMap<>();
        for (JsonNode r : runs) m.computeIfAbsent(r.path("model").asText(), k -> new ArrayList<>()).add(r);
        return m;
    }

    private static String seedsNote(List<JsonNode> runs) {
        long seeds = runs.stream().map(r -> r.path("seed").asText()).distinct().count();
        return seeds > 1 ? " (mean of " + seeds + " seeds)" : "";
    }

    /** Mean over the lengths of string accuracy. */
    private static double meanAccuracy(JsonNode accuracy) {
        double s = 0;
        int n = 0;
        for (JsonNode a : accuracy) {
            s += a.path("string_accuracy").asDouble();
            n++;
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** x → mean y over the runs, keyed by the x each run reports. */
    private static TreeMap<Double, double[]> average(List<JsonNode> runs, Function<JsonNode, Map<Double, Double>> points) {
        TreeMap<Double, double[]> acc = new TreeMap<>();
        for (JsonNode r : runs)
            points.apply(r).forEach((x, y) -> {
                double[] v = acc.computeIfAbsent(x, k -> new double[2]);
                v[0] += y;
                v[1]++;
            });
        return acc;
    }

    private static void addLine(XYChart c, String name, TreeMap<Double, double[]> pts) {
        double[] xs = pts.keySet().stream().mapToDouble(Double::doubleValue).toArray();
        double[] ys = pts.values().stream().mapToDouble(v -> v[0] / v[1]).toArray();
        XYSeries s = c.addSeries(name, xs, ys);
        s.setMarker(SeriesMarkers.CIRCLE);
    }

    static XYChart examplesChart(String exp, List<JsonNode> runs) {
        if (runs.stream().noneMatch(r -> r.path("eval_curve").size() > 0)) return null;
        JsonNode first = runs.get(0);
        String lengths = first.path("eval").path("lengths").asText();
        XYChart c = chart(exp + ": " + taskLabel(first.path("task")) + ", tested at " + lengths,
                "training examples seen", "string accuracy");
        double lo = Double.MAX_VALUE, hi = 0;
        for (JsonNode r : runs)
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
        for (var m : byModel(runs).entrySet()) {
            // Seeds see slightly different example counts at a step: average x and y by step.
            TreeMap<Integer, double[]> bySteps = new TreeMap<>();
            for (JsonNode r : m.getValue())
                for (JsonNode p : r.path("eval_curve")) {
                    double[] v = bySteps.computeIfAbsent(p.path("step").asInt(), k -> new double[3]);
                    v[0] += p.path("examples_seen").asDouble();
                    v[1] += meanAccuracy(p.path("accuracy"));
                    v[2]++;
                }
            if (bySteps.isEmpty()) continue;
            double[] xs = bySteps.values().stream().mapToDouble(v -> Math.max(1, v[0] / v[2])).toArray();
            double[] ys = bySteps.values().stream().mapToDouble(v -> v[1] / v[2]).toArray();
            c.addSeries(m.getKey() + seedsNote(m.getValue()), xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }

    static XYChart lengthChart(String exp, List<JsonNode> runs) {
        if (runs.stream().noneMatch(r -> r.path("accuracy").size() > 0)) return null;
        JsonNode task = runs.get(0).path("task");
        boolean phone = task.path("type").asText().equals("phonebook");
        XYChart c = chart(exp + ": " + taskLabel(task), phone ? "entries in the phone book" : "string length",
                "string accuracy");
        int[] train = range(task.path("lengths").asText());
        if (train != null) {
            XYSeries shade = c.addSeries("training lengths " + train[0] + ".." + train[1],
                    new double[]{train[0], train[1]}, new double[]{1.0, 1.0});
            shade.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
            shade.setFillColor(new Color(200, 200, 200, 110));
            shade.setLineColor(new Color(200, 200, 200, 0));
            shade.setMarker(SeriesMarkers.NONE);
        }
        for (var m : byModel(runs).entrySet())
            addLine(c, m.getKey() + seedsNote(m.getValue()), average(m.getValue(), r -> {
                Map<Double, Double> pts = new TreeMap<>();
                for (JsonNode a : r.path("accuracy")) pts.put(a.path("length").asDouble(), a.path("string_accuracy").asDouble());
                return pts;
            }));
        return c;
    }

    static XYChart dupNgramChart(String exp, List<JsonNode> runs) {
        boolean any = runs.stream().anyMatch(r -> {
            for (JsonNode t : r.path("task_accuracy"))
                if (t.path("task").path("type").asText().equals("copy-dup-ngram")) return true;
            return false;
        });
        if (!any) return null;
        String lengths = runs.get(0).path("eval").path("lengths").asText();
        XYChart c = chart(exp + ": copy with a duplicated n-gram, length " + lengths, "n (length of the duplicated n-gram)",
                "string accuracy");
        for (var m : byModel(runs).entrySet())
            addLine(c, m.getKey() + seedsNote(m.getValue()), average(m.getValue(), r -> {
                Map<Double, Double> pts = new TreeMap<>();
                for (JsonNode t : r.path("task_accuracy"))
                    if (t.path("task").path("type").asText().equals("copy-dup-ngram"))
                        pts.put(t.path("task").path("ngram").asDouble(), meanAccuracy(t.path("accuracy")));
                return pts;
            }));
        return c;
    }

    /**
     * Longest evaluated length copied with string accuracy ≥ 0.5, against state bits; and the bound. Only copy
     * runs: the bound is about copying, and a lookup or phone-book run's lengths mean something else.
     */
    static XYChart capacityChart(List<ObjectNode> runs) {
        List<JsonNode> withBits = new ArrayList<>();
        for (JsonNode r : runs)
            if (r.hasNonNull("state_bits") && r.hasNonNull("copy_bound_length") && r.path("state_bits").asLong() > 0
                    && r.path("task").path("type").asText("copy").equals("copy"))
                withBits.add(r);
        if (withBits.isEmpty()) return null;
        XYChart c = chart("capacity: longest length copied (string accuracy >= 0.5) against the state size",
                "state bits", "length");
        c.getStyler().setYAxisMin(null);
        c.getStyler().setYAxisMax(null);
        c.getStyler().setYAxisDecimalPattern("#,##0");
        c.getStyler().setXAxisLogarithmic(true);
        TreeMap<Double, double[]> measured = new TreeMap<>(), bound = new TreeMap<>();
        for (JsonNode r : withBits) {
            double bits = r.path("state_bits").asDouble();
            int best = 0;
            for (JsonNode a : r.path("accuracy"))
                if (a.path("string_accuracy").asDouble() >= 0.5) best = Math.max(best, a.path("length").asInt());
            double[] v = measured.computeIfAbsent(bits, k -> new double[2]);
            v[0] += best;
            v[1]++;
            bound.put(bits, new double[]{r.path("copy_bound_length").asDouble(), 1});
        }
        addLine(c, "measured (max over evaluated lengths)", measured);
        XYSeries b = c.addSeries("Corollary 2.8 bound", bound.keySet().stream().mapToDouble(Double::doubleValue).toArray(),
                bound.values().stream().mapToDouble(v -> v[0]).toArray());
        b.setMarker(SeriesMarkers.NONE);
        return c;
    }

    private static String taskLabel(JsonNode task) {
        String type = task.path("type").asText();
        return switch (type) {
            case "lookup-prefix", "lookup-suffix" -> type + " (n=" + task.path("ngram").asInt() + ", k="
                    + task.path("answer_length").asInt() + "), trained on " + task.path("lengths").asText();
            case "copy-dup-ngram" -> type + " (n=" + task.path("ngram").asInt() + "), trained on " + task.path("lengths").asText();
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
