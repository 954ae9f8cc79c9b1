package parrot.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;
import parrot.config.TaskConfig;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.model.Parameter;
import parrot.results.ResultsIO;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model checkpoint directory: model.safetensors (Hugging Face parameter names, float32) and config.json (the
 * model and task configs), each written atomically.
 */
public final class Checkpoint {
    public static final String WEIGHTS = "model.safetensors", CONFIG = "config.json", FORMAT = "parrot.checkpoint/1";

    /** A loaded checkpoint. */
    public record Loaded(LanguageModel model, ModelConfig modelConfig, TaskConfig task, JsonNode config) {
    }

    private Checkpoint() {
    }

    public static void save(Path dir, LanguageModel model, ModelConfig mc, TaskConfig task, Map<String, Object> extra) {
        try {
            Files.createDirectories(dir);
            Backend be = model.backend();
            Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
            for (Parameter p : model.parameters().list())
                tensors.put(p.name(), new SafeTensors.Entry(p.shape(), be.toFloats(p.value())));
            SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt", "parrot", FORMAT));
            ObjectNode cfg = ResultsIO.JSON.createObjectNode();
            cfg.put("format", FORMAT);
            cfg.put("vocab_size", model.vocab());
            cfg.set("model", ResultsIO.JSON.valueToTree(mc));
            cfg.set("task", ResultsIO.JSON.valueToTree(task));
            if (extra != null) extra.forEach((k, v) -> cfg.set(k, ResultsIO.JSON.valueToTree(v)));
            ResultsIO.write(dir.resolve(CONFIG), cfg);
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoint " + dir, e);
        }
    }

    public static Loaded load(Path dir, Backend be) {
        Path cfgFile = dir.resolve(CONFIG), weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(cfgFile) || !Files.isRegularFile(weights))
            throw new IllegalArgumentException("checkpoint " + dir + ": needs " + CONFIG + " and " + WEIGHTS);
        try {
            JsonNode cfg = ResultsIO.JSON.readTree(cfgFile.toFile());
            ModelConfig mc = ConfigLoader.parseModel(cfg.get("model").toString());
            TaskConfig task = ConfigLoader.parseTask(cfg.get("task").toString());
            LanguageModel model = ModelFactory.create(mc, cfg.get("vocab_size").asInt(), be, 0);
            loadWeights(model, SafeTensors.read(weights), weights);
            return new Loaded(model, mc, task, cfg);
        } catch (IOException e) {
            throw new UncheckedIOException("reading checkpoint " + dir, e);
        }
    }

    /** Copies tensors into the model by name; every parameter must be present with its exact shape. */
    public static void loadWeights(LanguageModel model, Map<String, SafeTensors.Entry> tensors, Path source) {
        for (Parameter p : model.parameters().list()) {
            SafeTensors.Entry e = tensors.get(p.name());
            if (e == null) throw new IllegalArgumentException(source + ": missing tensor " + p.name());
            if (!java.util.Arrays.equals(e.shape(), p.shape()))
                throw new IllegalArgumentException(source + ": tensor " + p.name() + " has shape "
                        + java.util.Arrays.toString(e.shape()) + ", the model needs " + java.util.Arrays.toString(p.shape()));
            model.backend().upload(p.value(), e.data());
        }
    }
}
