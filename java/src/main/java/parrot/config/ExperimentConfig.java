package parrot.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** A whole experiment: one task, one training recipe and evaluation sweep, applied to each model. */
public record ExperimentConfig(String name, long seed, TaskConfig task, TrainConfig train, EvalConfig eval,
                               List<ModelConfig> models) {
    public static final long DEFAULT_SEED = 1;

    public ExperimentConfig {
        Check.name("name", name);
        Check.required("task", task);
        Check.required("train", train);
        Check.required("eval", eval);
        if (models == null || models.isEmpty()) throw new ConfigException("models", "at least one model required");
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < models.size(); i++) {
            ModelConfig m = models.get(i);
            if (m == null) throw new ConfigException("models[" + i + "]", "must be a model object, got null");
            Integer before = seen.putIfAbsent(m.name(), i);
            if (before != null)
                throw new ConfigException("models[" + i + "].name", "duplicate model name '" + m.name()
                        + "' (also models[" + before + "])");
        }
        models = List.copyOf(models);
        if (task.lengths().lo() < task.minLength())
            throw new ConfigException("task.lengths", task.minLengthReason() + ", got " + task.lengths());
        if (eval.lengths().lo() < task.minLength())
            throw new ConfigException("eval.lengths", task.minLengthReason() + ", got " + eval.lengths());
        if (train.evalLengths() != null && train.evalLengths().lo() < task.minLength())
            throw new ConfigException("train.eval_lengths", task.minLengthReason() + ", got " + train.evalLengths());
        for (int i = 0; i < eval.tasks().size(); i++) {
            TaskConfig et = eval.tasks().get(i);
            if (et.vocabSize() != task.vocabSize())
                throw new ConfigException("eval.tasks[" + i + "].type", et.type() + " over alphabet " + et.alphabet()
                        + " has " + et.vocabSize() + " tokens, the trained task " + task.type() + " over alphabet "
                        + task.alphabet() + " has " + task.vocabSize());
            if (eval.lengths().lo() < et.minLength())
                throw new ConfigException("eval.tasks[" + i + "]." + (et.type().startsWith("lookup") ? "answer_length" : "ngram"),
                        et.minLengthReason() + ", but eval.lengths starts at " + eval.lengths().lo());
        }
        // A row holds context+1 tokens (inputs plus the final target); a longer example could never be trained on.
        int needed = task.maxTokens() - 1;
        if (train.context() < needed)
            throw new ConfigException("train.context", train.context() + " is too short for task.lengths up to "
                    + task.lengths().hi() + " (needs >= " + needed + ")");
    }

    public ModelConfig model(String modelName) {
        return models.stream().filter(m -> m.name().equals(modelName)).findFirst()
                .orElseThrow(() -> new ConfigException("models", "no model named '" + modelName + "'; have: "
                        + models.stream().map(ModelConfig::name).collect(Collectors.joining(", "))));
    }
}
