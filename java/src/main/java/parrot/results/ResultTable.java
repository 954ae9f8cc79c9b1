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
 * per (run, evaluated task, length) for spreadsheets and pandas. The result JSON stays the source of truth; a
 * table can be merged and plotted again like a folder of results.
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
        ArrayNode out = t.putArray("runs");
        runs.forEach(out::add);
        return t;
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
            row.put("char_accuracy", a.path("char_accuracy").asDouble());
            row.put("examples_seen", run.path("examples_seen").asLong());
            row.put("final_loss", run.path("final_loss").asDouble());
            if (run.hasNonNull("state_bits")) row.put("state_bits", run.get("state_bits").asLong());
            if (run.hasNonNull("copy_bound_length")) row.put("copy_bound_length", run.get("copy_bound_length").asLong());
        }
    }
}
