package parrot.sweep;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import parrot.config.ConfigException;
import parrot.config.ConfigLoader;
import parrot.config.EvalConfig;
import parrot.config.TaskConfig;
import parrot.config.TrainConfig;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.errors.ErrorText;
import parrot.results.ResultsIO;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A sweep: experiments × models × seeds, each cell one training run. The file (documented in
 * experiments/README.md):
 * <pre>
 * {"name": "paper-small",                        optional; default: the file name
 *  "experiments": ["../copy-small.json", ...],   experiment configs, relative to this file
 *  "seeds": [1, 2, 3],                            optional; default: each experiment's own seed
 *  "models": ["hard-alibi", "nope"],              optional; only these model names
 *  "set": ["train.steps=200"]}                    optional; overrides applied to every experiment
 * </pre>
 * A plain experiment config is a sweep of itself. Cells are enumerated in a canonical order — experiments as
 * listed, then models as in each config, then seeds as listed — which {@link Shard} splits.
 */
public record Sweep(String name, List<Cell> cells) {
    /** The sweep file's fields. */
    record Spec(String name, List<String> experiments, List<Long> seeds, List<String> models, List<String> set) {
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Every problem names the sweep file: the config errors of its experiments name theirs too. */
    public static Sweep load(Path file, List<String> extraOverrides) {
        try {
            return loadUnchecked(file, extraOverrides);
        } catch (ConfigException e) {
            String m = e.getMessage();
            throw m.contains(file.toString()) ? e : new ConfigException(file + ": " + m);
        }
    }

    private static Sweep loadUnchecked(Path file, List<String> extraOverrides) {
        JsonNode tree;
        try {
            tree = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read sweep " + file + ": " + ErrorText.of(e));
        }
        String base = file.getFileName().toString().replaceFirst("\\.json$", "");
        if (tree != null && tree.has("models") && !tree.has("experiments")) { // an experiment config
            ExperimentConfig exp = ConfigLoader.load(file, extraOverrides);
            List<Cell> cells = new ArrayList<>();
            for (ModelConfig m : exp.models()) cells.add(new Cell(exp, m));
            return new Sweep(base, cells);
        }
        Spec spec;
        try {
            spec = JSON.treeToValue(tree, Spec.class);
        } catch (IOException e) {
            throw new ConfigException(file + ": not a sweep file (fields: name, experiments, seeds, models, set): "
                    + ErrorText.of(e));
        }
        if (spec == null) throw new ConfigException(file + ": empty; a sweep file is a JSON object");
        if (spec.seeds() != null) {
            if (spec.seeds().isEmpty())
                throw new ConfigException("seeds", "is empty; list at least one seed, or leave the field out for each experiment's own seed");
            Set<Long> distinct = new HashSet<>();
            for (int i = 0; i < spec.seeds().size(); i++) {
                Long seed = spec.seeds().get(i);
                if (seed == null) throw new ConfigException("seeds[" + i + "]", "must be an integer, got null");
                if (!distinct.add(seed)) throw new ConfigException("seeds[" + i + "]", "seed " + seed + " is listed twice");
            }
        }
        if (spec.models() != null && (spec.models().isEmpty() || spec.models().contains(null)))
            throw new ConfigException("models", "must list model names (leave the field out for every model)");
        if (spec.set() != null && spec.set().contains(null))
            throw new ConfigException("set", "entries must be strings like \"train.steps=200\"");
        if (spec.experiments() != null && spec.experiments().contains(null))
            throw new ConfigException("experiments", "entries must be file names");
        if (spec.experiments() == null || spec.experiments().isEmpty())
            throw new ConfigException("experiments", "a sweep lists at least one experiment config");
        List<String> overrides = new ArrayList<>(spec.set() == null ? List.of() : spec.set());
        if (extraOverrides != null) overrides.addAll(extraOverrides);
        Set<String> wanted = spec.models() == null ? null : new LinkedHashSet<>(spec.models());
        Set<String> seenModels = new HashSet<>(), ids = new HashSet<>();
        List<Cell> cells = new ArrayList<>();
        Path dir = file.toAbsolutePath().getParent();
        for (int i = 0; i < spec.experiments().size(); i++) {
            Path expFile = dir.resolve(spec.experiments().get(i));
            if (!Files.isRegularFile(expFile))
                throw new ConfigException("experiments[" + i + "]", "no such file " + expFile);
            List<Long> seeds = spec.seeds();
            for (ExperimentConfig exp : seeds == null ? List.of(ConfigLoader.load(expFile, overrides))
                    : seeds.stream().map(s -> {
                        List<String> o = new ArrayList<>(overrides);
                        o.add("seed=" + s);
                        return ConfigLoader.load(expFile, o);
                    }).toList()) {
                for (ModelConfig m : exp.models()) {
                    if (wanted != null && !wanted.contains(m.name())) continue;
                    seenModels.add(m.name());
                    Cell c = new Cell(exp, m);
                    if (!ids.add(c.id()))
                        throw new ConfigException("experiments[" + i + "]", "cell " + c.id() + " appears twice (two configs with one name?)");
                    cells.add(c);
                }
            }
        }
        // Orders cells experiment → model → seed (the loop above goes experiment → seed → model).
        List<Cell> ordered = new ArrayList<>();
        for (String expName : cells.stream().map(c -> c.experiment().name()).distinct().toList())
            for (String model : cells.stream().filter(c -> c.experiment().name().equals(expName)).map(c -> c.model().name()).distinct().toList())
                for (Cell c : cells)
                    if (c.experiment().name().equals(expName) && c.model().name().equals(model)) ordered.add(c);
        if (wanted != null) {
            Set<String> missing = new LinkedHashSet<>(wanted);
            missing.removeAll(seenModels);
            if (!missing.isEmpty()) throw new ConfigException("models", "no experiment has a model named " + missing);
        }
        return new Sweep(spec.name() != null ? spec.name() : base, List.copyOf(ordered));
    }

    /**
     * A finished cell: its result.json parses as a parrot.run/1 result of this experiment, model and seed, with
     * an accuracy table, written by the same configs (model, task, train, eval). Anything else (missing,
     * truncated, another run's, a config edited since) means the cell runs again.
     */
    public static boolean finished(Cell cell, Path root) {
        Path f = cell.dir(root).resolve("result.json");
        if (!Files.isRegularFile(f)) return false;
        try {
            JsonNode r = ResultsIO.JSON.readTree(f.toFile());
            return r != null && "parrot.run/1".equals(r.path("schema").asText())
                    && cell.experiment().name().equals(r.path("experiment").asText())
                    && cell.model().name().equals(r.path("model").asText())
                    && r.path("seed").canConvertToLong() && r.path("seed").asLong() == cell.seed()
                    && r.path("accuracy").isArray() && r.path("accuracy").size() > 0
                    && sameConfigs(cell, r);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether a result (or a checkpoint's config) was made by this cell's configs. */
    static boolean sameConfigs(Cell cell, JsonNode r) {
        ExperimentConfig e = cell.experiment();
        return cell.model().equals(ConfigLoader.parseSection(r.path("model_config").toString(), ModelConfig.class))
                && e.task().equals(ConfigLoader.parseSection(r.path("task").toString(), TaskConfig.class))
                && e.train().equals(ConfigLoader.parseSection(r.path("train").toString(), TrainConfig.class))
                && e.eval().equals(ConfigLoader.parseSection(r.path("eval").toString(), EvalConfig.class));
    }
}
