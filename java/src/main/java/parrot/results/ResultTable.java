package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Many runs' result JSON in one table (schema {@value #SCHEMA}): {@code runs} holds every result.json as it was
 * written (plus {@code source}, the file it came from), and {@code rows} flattens their accuracies into one row
 * per (run, evaluated task, length) for spreadsheets and pandas, each with its 95% Wilson interval;
 * {@code aggregates} one row per (experiment, model, evaluated task, length) across seeds (mean, min, max,
 * per-seed values: {@link SeedGroups}), and {@code examples_to_90} the training examples each model needed to
 * reach 90% string accuracy at its probe lengths ({@link ExamplesToTarget}). The result JSON stays the source of
 * truth; a table can be merged and plotted again like a folder of results (aggregates are recomputed).
 */
public final class ResultTable {
    private static final Logger log = LoggerFactory.getLogger(ResultTable.class);
    public static final String SCHEMA = "parrot.table/1";

    private ResultTable() {
    }

    /**
     * Every run under the paths: result JSON files, folders (searched for result.json, checkpoints skipped) and
     * merged tables. Runs are keyed by (experiment, model, seed); of duplicates the one started last is kept.
     */
    public static List<ObjectNode> collect(List<Path> paths) {
        Map<String, ObjectNode> byKey = new LinkedHashMap<>();
        for (Path p : paths) {
            if (!Files.exists(p)) throw new IllegalArgumentException("no such file or folder: " + p);
            for (Path f : files(p)) {
                JsonNode n;
                try {
                    n = ResultsIO.JSON.readTree(f.toFile());
                } catch (IOException e) {
                    throw new ResultValidation.InvalidResultException(f + ": not valid JSON: " + parrot.errors.ErrorText.of(e));
                }
                List<ObjectNode> runs = new ArrayList<>();
                if (n != null && SCHEMA.equals(n.path("schema").asText())) {
                    if (!n.path("runs").isArray()) throw new ResultValidation.InvalidResultException(f + ": runs: must be a list");
                    int i = 0;
                    for (JsonNode r : n.path("runs")) {
                        ResultValidation.check(r, f + ": runs[" + i++ + "]");
                        runs.add((ObjectNode) r);
                    }
                } else if (n instanceof ObjectNode o && RunResult.SCHEMA.equals(o.path("schema").asText())) {
                    ResultValidation.check(o, f.toString());
                    o.put("source", f.toString());
                    runs.add(o);
                } else {
                    if (Files.isRegularFile(p)) log.warn("skipping {}: neither a {} result nor a {} table", f, RunResult.SCHEMA, SCHEMA);
                    continue;
                }
                for (ObjectNode r : runs) {
                    String key = r.path("experiment").asText() + "/" + r.path("model").asText() + "/seed-" + r.path("seed").asText();
                    ObjectNode before = byKey.get(key);
                    if (before != null) {
                        log.warn("{} appears twice ({} and {}); keeping the later run", key, before.path("source").asText(),
                                r.path("source").asText());
                        if (r.path("started_at").asText().compareTo(before.path("started_at").asText()) < 0) continue;
                    }
                    byKey.put(key, r);
                }
            }
        }
        return new ArrayList<>(byKey.values());
    }

    private static List<Path> files(Path p) {
        if (Files.isRegularFile(p)) return List.of(p);
        try (Stream<Path> walk = Files.walk(p)) {
            return walk.filter(f -> f.getFileName().toString().equals("result.json") && Files.isRegularFile(f))
                    .filter(f -> f.toString().indexOf("/checkpoint") < 0).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + p, e);
        }
    }

    /** The table of {@link #collect}'s runs. */
    public static ObjectNode merge(List<Path> paths) {
        List<ObjectNode> runs = collect(paths);
        ObjectNode t = ResultsIO.JSON.createObjectNode();
        t.put("schema", SCHEMA);
        t.put("created_at", Instant.now().toString());
        ArrayNode src = t.putArray("sources");
        paths.forEach(p -> src.add(p.toString()));
        ArrayNode rows = t.putArray("rows");
        for (ObjectNode r : runs) {
            addRows(rows, r, r.path("task"), "main", r.path("accuracy"));
            for (JsonNode ta : r.path("task_accuracy")) addRows(rows, r, ta.path("task"), "eval_task", ta.path("accuracy"));
        }
        // Seeds: one aggregate per (experiment, model, evaluated task, length); refuses groups mixing configs.
        List<SeedGroups.Group> groups = SeedGroups.of(runs);
        ArrayNode agg = t.putArray("aggregates");
        for (SeedGroups.Group g : groups) {
            addAggregates(agg, g, "main", g.first().path("task"), r -> r.path("accuracy"));
            List<JsonNode> evalTasks = new ArrayList<>();
            for (JsonNode ta : g.first().path("task_accuracy")) evalTasks.add(ta.path("task"));
            for (JsonNode et : evalTasks)
                addAggregates(agg, g, "eval_task", et, r -> {
                    for (JsonNode ta : r.path("task_accuracy")) if (ta.path("task").equals(et)) return ta.path("accuracy");
                    return ResultsIO.JSON.createArrayNode();
                });
        }
        ArrayNode e90 = t.putArray("examples_to_90");
        for (SeedGroups.Group g : groups) {
            ExamplesToTarget x = ExamplesToTarget.of(g, ExamplesToTarget.PAPER_TARGET);
            if (x == null) continue;
            ObjectNode o = e90.addObject();
            o.put("experiment", x.experiment()).put("model", x.model()).put("target", x.target()).put("probe", x.probe());
            ArrayNode seeds = o.putArray("seeds");
            x.seeds().forEach(seeds::add);
            ArrayNode per = o.putArray("per_seed");
            x.perSeed().forEach(v -> {
                if (v == null) per.addNull();
                else per.add(v);
            });
            o.put("seeds_reached", x.reached().size());
            if (x.reached().isEmpty()) o.putNull("mean").putNull("min").putNull("max");
            else o.put("mean", x.mean()).put("min", x.min()).put("max", x.max());
            o.put("trained_for", x.trainedFor());
            o.put("summary", x.summary());
        }
        ArrayNode out = t.putArray("runs");
        runs.forEach(out::add);
        return t;
    }

    /** One aggregate row per length of a group's accuracy lists (one list per run, chosen by {@code pick}). */
    private static void addAggregates(ArrayNode agg, SeedGroups.Group g, String role, JsonNode task,
                                      java.util.function.Function<JsonNode, JsonNode> pick) {
        java.util.TreeMap<Double, Across> str = g.across(r -> {
            Map<Double, JsonNode> m = new java.util.TreeMap<>();
            for (JsonNode a : pick.apply(r)) m.put(a.path("length").asDouble(), ResultsIO.JSON.createArrayNode().add(a));
            return m;
        });
        JsonNode first = g.first();
        for (var e : str.entrySet()) {
            Across a = e.getValue();
            ObjectNode row = agg.addObject();
            row.put("experiment", g.experiment()).put("model", g.model());
            row.put("family", first.path("model_config").path("family").asText("transformer"));
            row.put("parameters", first.path("parameters").asLong());
            row.put("role", role).put("task", task.path("type").asText());
            row.put("ngram", task.path("ngram").asInt()).put("answer_length", task.path("answer_length").asInt());
            row.put("train_lengths", first.path("task").path("lengths").asText());
            row.put("length", e.getKey().intValue());
            ArrayNode seeds = row.putArray("seeds");
            a.seeds().forEach(seeds::add);
            row.put("samples", a.n() / Math.max(1, a.values().size()));
            ObjectNode sa = row.putObject("string_accuracy");
            sa.put("mean", a.mean()).put("min", a.min()).put("max", a.max());
            ArrayNode per = sa.putArray("per_seed");
            a.values().forEach(per::add);
            double[] band = a.band();
            sa.put("band_lo", band[0]).put("band_hi", band[1]).put("band", a.bandKind());
            ObjectNode ca = row.putObject("char_accuracy");
            List<Double> chars = new ArrayList<>();
            for (JsonNode r : g.runs())
                for (JsonNode x : pick.apply(r))
                    if (x.path("length").asDouble() == e.getKey()) chars.add(x.path("char_accuracy").asDouble());
            ca.put("mean", chars.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
            ca.put("min", chars.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN));
            ca.put("max", chars.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN));
            ArrayNode cper = ca.putArray("per_seed");
            chars.forEach(cper::add);
            if (first.hasNonNull("state_bits")) row.put("state_bits", first.get("state_bits").asLong());
            if (first.hasNonNull("copy_bound_length")) row.put("copy_bound_length", first.get("copy_bound_length").asLong());
        }
    }

    private static void addRows(ArrayNode rows, JsonNode run, JsonNode task, String role, JsonNode accuracy) {
        for (JsonNode a : accuracy) {
            ObjectNode row = rows.addObject();
            row.put("experiment", run.path("experiment").asText());
            row.put("model", run.path("model").asText());
            row.put("seed", run.path("seed").asLong());
            JsonNode mc = run.path("model_config");
            row.put("family", mc.path("family").asText("transformer"));
            row.put("positional", mc.path("positional").asText(null));
            row.put("parameters", run.path("parameters").asLong());
            row.put("role", role);
            row.put("task", task.path("type").asText());
            row.put("ngram", task.path("ngram").asInt());
            row.put("answer_length", task.path("answer_length").asInt());
            row.put("train_lengths", run.path("task").path("lengths").asText());
            row.put("length", a.path("length").asInt());
            row.put("samples", a.path("samples").asInt());
            row.put("string_accuracy", a.path("string_accuracy").asDouble());
            parrot.eval.Wilson w = parrot.eval.Wilson.ofAccuracy(a.path("string_accuracy").asDouble(), a.path("samples").asLong());
            row.put("string_accuracy_lo", w.lo()).put("string_accuracy_hi", w.hi());
            row.put("char_accuracy", a.path("char_accuracy").asDouble());
            row.put("examples_seen", run.path("examples_seen").asLong());
            row.put("final_loss", run.path("final_loss").asDouble());
            if (run.hasNonNull("state_bits")) row.put("state_bits", run.get("state_bits").asLong());
            if (run.hasNonNull("copy_bound_length")) row.put("copy_bound_length", run.get("copy_bound_length").asLong());
        }
    }
}
