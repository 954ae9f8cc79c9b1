package parrot.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads experiment configs: JSON → overrides → unknown-field check and defaults → records (which validate).
 * Every failure is a one-line {@link ConfigException} naming the field path.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    public static ExperimentConfig load(Path file, List<String> overrides) {
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config " + file + ": " + parrot.errors.ErrorText.of(e));
        }
        return parse(json, overrides, file.toString());
    }

    public static ExperimentConfig parse(String json, List<String> overrides) {
        return parse(json, overrides, "config");
    }

    /** A lone model config, as stored beside a checkpoint. */
    public static ModelConfig parseModel(String json) {
        JsonNode tree = readTree(json, "model config");
        Schema.complete(tree, ModelConfig.class, "");
        return bind(tree, ModelConfig.class);
    }

    public static String toJson(ExperimentConfig config) {
        return write(config);
    }

    public static String toJson(ModelConfig model) {
        return write(model);
    }

    private static ExperimentConfig parse(String json, List<String> overrides, String source) {
        JsonNode tree = readTree(json, source);
        if (!(tree instanceof ObjectNode root))
            throw new ConfigException(source + ": expected a JSON object, got " + Schema.describe(tree));
        if (overrides != null) for (String o : overrides) Overrides.apply(root, ExperimentConfig.class, o);
        inheritEvalTasks(root);
        Schema.complete(root, ExperimentConfig.class, "");
        return bind(root, ExperimentConfig.class);
    }

    /**
     * One section (TaskConfig, TrainConfig, EvalConfig, ModelConfig) as stored in a result or checkpoint; fields
     * it lacks (written by an older parrot) take their defaults, so it compares equal to today's record.
     */
    public static <T> T parseSection(String json, Class<T> type) {
        if (!Schema.isSection(type) || type == ExperimentConfig.class)
            throw new IllegalArgumentException(type.getSimpleName() + " is not a config section");
        JsonNode tree = readTree(json, type.getSimpleName());
        Schema.complete(tree, type, "");
        return bind(tree, type);
    }

    /** A lone task config, as stored beside a checkpoint; fields it lacks take their defaults. */
    public static TaskConfig parseTask(String json) {
        JsonNode tree = readTree(json, "task config");
        Schema.complete(tree, TaskConfig.class, "");
        return bind(tree, TaskConfig.class);
    }

    /**
     * eval.tasks entries name only what differs from the experiment's task ({"type": "copy-dup-ngram",
     * "ngram": 5}): every field they leave out is copied from the (defaults-completed) task before binding.
     */
    private static void inheritEvalTasks(ObjectNode root) {
        JsonNode eval = root.get("eval"), tasks = eval == null ? null : eval.get("tasks");
        if (!(tasks instanceof com.fasterxml.jackson.databind.node.ArrayNode list) || list.isEmpty()) return;
        JsonNode task = root.get("task");
        if (task == null || task.isNull()) task = root.putObject("task");
        if (!(task instanceof ObjectNode main)) return; // the main completion reports it
        Schema.complete(main, TaskConfig.class, "task");
        for (JsonNode item : list) {
            if (!(item instanceof ObjectNode entry)) continue;
            main.fields().forEachRemaining(f -> {
                JsonNode v = entry.get(f.getKey());
                if (v == null || v.isNull()) entry.set(f.getKey(), f.getValue().deepCopy());
            });
        }
    }

    private static JsonNode readTree(String json, String source) {
        try {
            return Schema.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException(source + ": invalid JSON" + where + ": " + oneLine(e.getOriginalMessage()));
        }
    }

    private static <T> T bind(JsonNode tree, Class<T> type) {
        try {
            return Schema.MAPPER.treeToValue(tree, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw translate(e, tree);
        }
    }

    /** Jackson's error, or the record's own ConfigException inside it, re-said with the path Jackson tracked. */
    private static ConfigException translate(Exception e, JsonNode tree) {
        List<JsonMappingException.Reference> refs = e instanceof JsonMappingException m ? m.getPath() : List.of();
        for (Throwable t = e; t != null; t = t.getCause())
            if (t instanceof ConfigException ce) return ce.under(path(refs));
        if (e instanceof MismatchedInputException m && m.getTargetType() != null)
            return new ConfigException(path(refs), "expected " + typeName(m.getTargetType()) + ", got "
                    + Schema.describe(nodeAt(tree, refs)));
        String msg = e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
        return new ConfigException(path(refs), oneLine(msg));
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            else if (r.getIndex() >= 0) sb.append('[').append(r.getIndex()).append(']');
        }
        return sb.toString();
    }

    private static JsonNode nodeAt(JsonNode tree, List<JsonMappingException.Reference> refs) {
        JsonNode n = tree;
        for (JsonMappingException.Reference r : refs) {
            if (n == null) return null;
            n = r.getFieldName() != null ? n.get(r.getFieldName()) : n.get(r.getIndex());
        }
        return n;
    }

    private static String typeName(Class<?> t) {
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) return "an integer";
        if (t == double.class || t == Double.class) return "a number";
        if (t == String.class) return "a string";
        if (List.class.isAssignableFrom(t)) return "a list";
        if (t == IntRange.class) return "a range like 1..20";
        return "a " + t.getSimpleName();
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    private static String write(Object value) {
        try {
            return Schema.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("config records always serialize", e);
        }
    }
}
