package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The paper's pretrained-model figures (Figures 5 and 6) from parrot.pretrained/1 results: per task, accuracy
 * against length with one line per model, Pythia (GPT-NeoX) in blues and Mamba in reds, smallest first; for SQuAD
 * exact match and F1. Results of the same model and task (e.g. two lengths ranges) are drawn as one line.
 */
public final class PretrainedPlots {
    public static final String SCHEMA = "parrot.pretrained/1";
    private static final Color[] BLUES = {new Color(0x9ecae1), new Color(0x4292c6), new Color(0x08519c), new Color(0x08306b)};
    private static final Color[] REDS = {new Color(0xfc9272), new Color(0xef3b2c), new Color(0xa50f15), new Color(0x67000d)};

    private PretrainedPlots() {
    }

    /** The parrot.pretrained/1 files among paths (files, or folders searched for *.json). */
    public static List<JsonNode> collect(List<Path> paths) {
        List<JsonNode> out = new ArrayList<>();
        for (Path p : paths) {
            List<Path> files;
            if (Files.isRegularFile(p)) files = List.of(p);
            else if (Files.isDirectory(p)) {
                try (Stream<Path> w = Files.walk(p)) {
                    files = w.filter(f -> f.toString().endsWith(".json") && Files.isRegularFile(f)).sorted().toList();
                } catch (IOException e) {
                    throw new UncheckedIOException("reading " + p, e);
                }
            } else continue;
            for (Path f : files) {
                try {
                    JsonNode n = ResultsIO.JSON.readTree(f.toFile());
                    if (n != null && SCHEMA.equals(n.path("schema").asText())) out.add(n);
                } catch (IOException e) {
                    // not JSON: not ours (the run collector reports what it cannot read)
                }
            }
        }
        return out;
    }

    public static boolean isPretrained(Path file) {
        if (!Files.isRegularFile(file)) return false;
        try {
            return SCHEMA.equals(ResultsIO.JSON.readTree(file.toFile()).path("schema").asText());
        } catch (IOException e) {
            return false;
        }
    }

    public static List<Path> write(List<JsonNode> results, Path outDir) {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        Map<String, List<JsonNode>> byTask = new LinkedHashMap<>();
        for (JsonNode r : results) byTask.computeIfAbsent(r.path("task").asText(), k -> new ArrayList<>()).add(r);
        try {
            Files.createDirectories(outDir);
            for (var e : byTask.entrySet()) {
                String task = e.getKey();
                written.add(save(chart(task, e.getValue(), "accuracy", task.equals("squad") ? "exact match" : "accuracy"),
                        outDir.resolve("pretrained-" + task + ".png")));
                if (task.equals("squad"))
                    written.add(save(chart(task, e.getValue(), "f1", "F1"), outDir.resolve("pretrained-squad-f1.png")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing plots to " + outDir, e);
        }
        return written;
    }

    private static XYChart chart(String task, List<JsonNode> rs, String field, String yLabel) {
        String unit = rs.get(0).path("length_unit").asText("length");
        XYChart c = new XYChartBuilder().width(Plots.WIDTH).height(Plots.HEIGHT)
                .title("pretrained models: " + task).xAxisTitle(unit).yAxisTitle(yLabel).build();
        var s = c.getStyler();
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setYAxisMin(0.0);
        s.setYAxisMax(1.0);
        s.setYAxisDecimalPattern("0.0");
        s.setXAxisDecimalPattern("#,##0");
        Map<String, List<JsonNode>> byModel = new LinkedHashMap<>();
        rs.stream().sorted(Comparator.comparing((JsonNode r) -> r.path("family").asText())
                        .thenComparingLong(r -> r.path("parameters").asLong()))
                .forEach(r -> byModel.computeIfAbsent(r.path("model").asText(), k -> new ArrayList<>()).add(r));
        int blue = 0, red = 0;
        for (var m : byModel.entrySet()) {
            java.util.TreeMap<Double, Double> pts = new java.util.TreeMap<>();
            for (JsonNode r : m.getValue())
                for (JsonNode p : r.path("results"))
                    if (p.hasNonNull(field)) pts.put(p.path("length").asDouble(), p.path(field).asDouble());
            if (pts.isEmpty()) continue;
            boolean mamba = m.getValue().get(0).path("family").asText().equals("mamba");
            XYSeries ser = c.addSeries(m.getKey(), new ArrayList<>(pts.keySet()), new ArrayList<>(pts.values()));
            ser.setMarker(mamba ? SeriesMarkers.SQUARE : SeriesMarkers.CIRCLE);
            ser.setLineColor(mamba ? REDS[red++ % REDS.length] : BLUES[blue++ % BLUES.length]);
            ser.setMarkerColor(ser.getLineColor());
        }
        return c;
    }

    private static Path save(XYChart c, Path file) throws IOException {
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }
}
