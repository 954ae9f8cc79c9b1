package parrot.eval.pretrained;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import parrot.config.IntRange;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A sweep of pretrained evaluations: every model × every task, one result file per cell
 * ({@code out/<model>/<task>.json}), cells already done skipped. Relative paths are relative to the config file.
 * <pre>
 * {"models": [{"name": "pythia-410m", "hf": "models/pythia-410m"}, {"name": "mamba-370m", "hf": "models/mamba-370m-hf"}],
 *  "tokenizer": "models/gpt-neox-20b/tokenizer.json",
 *  "tasks": [{"task": "phonebook", "lengths": "20..140:20", "samples": 96},
 *            {"task": "copy-text", "lengths": "25..300:25", "text": "c4-sample.txt"},
 *            {"task": "squad", "lengths": "200..1000:200", "file": "dev-v1.1.json", "samples": 30}],
 *  "batch_size": 32, "seed": 1, "out": "runs/pretrained"}
 * </pre>
 */
public record PretrainedConfig(List<Model> models, Path tokenizer, List<Task> tasks, int batchSize, long seed, Path out,
                               String device) {
    public static final List<String> TASKS = List.of("phonebook", "copy-text", "copy-text-shuffled", "squad");

    public record Model(String name, Path hf) {
    }

    /** @param data the text to copy (copy-text*) or the SQuAD file (squad); null: the default text */
    public record Task(String task, IntRange lengths, int samples, Path data) {
    }

    private static final Set<String> TOP = Set.of("models", "tokenizer", "tasks", "batch_size", "seed", "out", "device");
    private static final Set<String> TASK_FIELDS = Set.of("task", "lengths", "samples", "text", "file");

    public static PretrainedConfig read(Path file) {
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (n == null || !n.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
        Path base = file.toAbsolutePath().getParent();
        String f = file + ": ";
        for (var it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!TOP.contains(k)) throw new IllegalArgumentException(f + k + ": unknown field; allowed: " + String.join(", ", TOP.stream().sorted().toList()));
        }
        List<Model> models = new ArrayList<>();
        Set<String> names = new HashSet<>();
        JsonNode ms = n.path("models");
        if (!ms.isArray() || ms.isEmpty()) throw new IllegalArgumentException(f + "models: required, a list of {name, hf}");
        for (int i = 0; i < ms.size(); i++) {
            JsonNode m = ms.get(i);
            String hf = text(m, "hf", f + "models[" + i + "].");
            String name = m.hasNonNull("name") ? m.get("name").asText() : Path.of(hf).getFileName().toString();
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*"))
                throw new IllegalArgumentException(f + "models[" + i + "].name: letters, digits, '.', '_' and '-' only, got '" + name + "'");
            if (!names.add(name)) throw new IllegalArgumentException(f + "models[" + i + "].name: '" + name + "' appears twice");
            models.add(new Model(name, base.resolve(hf)));
        }
        List<Task> tasks = new ArrayList<>();
        JsonNode ts = n.path("tasks");
        if (!ts.isArray() || ts.isEmpty()) throw new IllegalArgumentException(f + "tasks: required, a list of {task, lengths, ...}");
        for (int i = 0; i < ts.size(); i++) {
            JsonNode t = ts.get(i);
            String at = f + "tasks[" + i + "].";
            for (var it = t.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!TASK_FIELDS.contains(k)) throw new IllegalArgumentException(at + k + ": unknown field; allowed: task, lengths, samples, text, file");
            }
            String task = text(t, "task", at);
            if (!TASKS.contains(task)) throw new IllegalArgumentException(at + "task: '" + task + "' unknown; allowed: " + String.join(", ", TASKS));
            IntRange lengths;
            try {
                lengths = IntRange.parse(text(t, "lengths", at));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(at + "lengths: " + e.getMessage());
            }
            int samples = t.path("samples").asInt(task.equals("squad") ? 30 : 96);
            if (samples < 1) throw new IllegalArgumentException(at + "samples: must be >= 1, got " + t.get("samples"));
            Path data = null;
            if (task.equals("squad")) data = base.resolve(text(t, "file", at));
            else if (t.hasNonNull("text")) data = base.resolve(t.get("text").asText());
            if (task.equals("squad") && t.has("text")) throw new IllegalArgumentException(at + "text: only for copy-text tasks; squad takes file");
            if (!task.equals("squad") && t.has("file")) throw new IllegalArgumentException(at + "file: only for squad; copy-text takes text");
            tasks.add(new Task(task, lengths, samples, data));
        }
        int batch = n.path("batch_size").asInt(32);
        if (batch < 1) throw new IllegalArgumentException(f + "batch_size: must be >= 1, got " + n.get("batch_size"));
        Path tokenizer = n.hasNonNull("tokenizer") ? base.resolve(n.get("tokenizer").asText()) : null;
        Path out = base.resolve(n.path("out").asText("runs/pretrained"));
        return new PretrainedConfig(List.copyOf(models), tokenizer, List.copyOf(tasks), batch, n.path("seed").asLong(1), out,
                n.path("device").asText("auto"));
    }

    private static String text(JsonNode n, String k, String at) {
        JsonNode v = n.get(k);
        if (v == null || !v.isTextual() || v.asText().isBlank()) throw new IllegalArgumentException(at + k + ": required, a string");
        return v.asText();
    }
}
