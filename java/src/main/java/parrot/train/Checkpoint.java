package parrot.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.config.TaskConfig;
import parrot.errors.ErrorText;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.model.Parameter;
import parrot.results.EvalPoint;
import parrot.results.LossPoint;
import parrot.results.ResultsIO;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A checkpoint directory:
 * <pre>
 * model.safetensors      weights, Hugging Face names, float32 (loads with safetensors.torch.load_file)
 * optimizer.safetensors  AdamW moments "&lt;param&gt;.exp_avg" and "&lt;param&gt;.exp_avg_sq"; metadata "step"
 * config.json            {format, vocab_size, model, task, seed, experiment (the whole resolved config)}
 * state.json             {format, step, examples_seen, train_seconds, last_loss, window_loss, window_steps,
 *                         loss_curve, eval_curve}
 * manifest.json          written last: every other file's size and CRC-32C
 * </pre>
 * There is no data-loader or RNG state to save: a batch is a pure function of (seed, step), so the next batch
 * of a resumed run is {@code batch(step)}; model initialisation is overwritten by the saved weights.
 *
 * <p>Writing is atomic at the directory level: the whole checkpoint goes into a temporary sibling
 * ({@code checkpoint.tmp-*}), every file is fsynced, then the old directory is renamed to
 * {@code checkpoint.prev}, the new one to {@code checkpoint}, and only then is the previous one deleted. A crash
 * or a full disk at any point leaves a complete checkpoint under {@code checkpoint} or {@code checkpoint.prev},
 * which {@link #find} picks; a directory whose files disagree with its manifest is refused with the reason.
 */
public final class Checkpoint {
    private static final Logger log = LoggerFactory.getLogger(Checkpoint.class);

    public static final String WEIGHTS = "model.safetensors", OPTIMIZER = "optimizer.safetensors", CONFIG = "config.json",
            STATE = "state.json", MANIFEST = "manifest.json", FORMAT = "parrot.checkpoint/1",
            STATE_FORMAT = "parrot.train-state/1", MANIFEST_FORMAT = "parrot.manifest/1";
    /** Suffixes of the siblings used while writing. */
    public static final String PREVIOUS = ".prev", TEMPORARY = ".tmp-";

    /** A loaded checkpoint. */
    public record Loaded(LanguageModel model, ModelConfig modelConfig, TaskConfig task, JsonNode config) {
    }

    /**
     * Where training stood: optimizer steps taken, whole examples seen, training time so far, the loss of the
     * last step, the running mean of the loss-curve point in progress, and the curves so far.
     */
    public record TrainState(int step, long examplesSeen, double trainSeconds, double lastLoss, double windowLoss,
                             int windowSteps, List<LossPoint> lossCurve, List<EvalPoint> evalCurve) {
        public TrainState {
            lossCurve = List.copyOf(lossCurve == null ? List.of() : lossCurve);
            evalCurve = List.copyOf(evalCurve == null ? List.of() : evalCurve);
        }
    }

    /** What a resumed run needs: the config that wrote it, the state, and the tensors to put back. */
    public record Resumable(Path dir, ExperimentConfig experiment, ModelConfig model, TrainState state,
                            Map<String, SafeTensors.Entry> weights, Map<String, SafeTensors.Entry> optimizer,
                            int optimizerStep) {
    }

    /** A corrupt, incomplete or missing checkpoint; the message says which file and why. */
    public static final class CheckpointException extends IllegalArgumentException {
        public CheckpointException(String message) {
            super(message);
        }

        public CheckpointException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * How files reach the disk; tests wrap the channel to fail mid-write (a full disk) and see that nothing
     * saved before is lost.
     */
    @FunctionalInterface
    interface Sink {
        WritableByteChannel wrap(Path file, FileChannel channel) throws IOException;

        Sink DIRECT = (file, channel) -> channel;
    }

    private Checkpoint() {
    }

    // ---- writing -------------------------------------------------------------------------------------------

    /** Weights and configs only (no training state): what evaluation needs. Atomic like every save. */
    public static void save(Path dir, LanguageModel model, ModelConfig mc, TaskConfig task, Map<String, Object> extra) {
        ObjectNode cfg = configJson(model, mc, task);
        if (extra != null) extra.forEach((k, v) -> cfg.set(k, ResultsIO.JSON.valueToTree(v)));
        Map<String, SafeTensors.Entry> w = weights(model);
        write(dir, Sink.DIRECT, files -> {
            files.tensors(WEIGHTS, w, Map.of("format", "pt", "parrot", FORMAT));
            files.json(CONFIG, cfg);
        });
    }

    /** Everything a bitwise-exact resume needs. */
    public static void save(Path dir, ExperimentConfig exp, ModelConfig mc, LanguageModel model, Optimizer opt,
                            TrainState state) {
        save(dir, exp, mc, model, opt, state, Sink.DIRECT);
    }

    static void save(Path dir, ExperimentConfig exp, ModelConfig mc, LanguageModel model, Optimizer opt,
                     TrainState state, Sink sink) {
        ObjectNode cfg = configJson(model, mc, exp.task());
        cfg.put("seed", exp.seed());
        cfg.set("experiment", readTree(ConfigLoader.toJson(exp)));
        ObjectNode st = ResultsIO.JSON.valueToTree(state);
        ObjectNode stateJson = ResultsIO.JSON.createObjectNode();
        stateJson.put("format", STATE_FORMAT);
        stateJson.put("experiment", exp.name());
        stateJson.put("model", mc.name());
        stateJson.put("data", "batches are a pure function of (seed, step); the next batch is batch(step)");
        stateJson.setAll(st);
        Map<String, SafeTensors.Entry> w = weights(model), moments = moments(model, opt);
        write(dir, sink, files -> {
            files.tensors(WEIGHTS, w, Map.of("format", "pt", "parrot", FORMAT));
            files.tensors(OPTIMIZER, moments, Map.of("format", "pt", "parrot", FORMAT,
                    "optimizer", "AdamW", "step", Integer.toString(opt.stepCount())));
            files.json(CONFIG, cfg);
            files.json(STATE, stateJson);
        });
    }

    private static ObjectNode configJson(LanguageModel model, ModelConfig mc, TaskConfig task) {
        ObjectNode cfg = ResultsIO.JSON.createObjectNode();
        cfg.put("format", FORMAT);
        cfg.put("vocab_size", model.vocab());
        cfg.set("model", ResultsIO.JSON.valueToTree(mc));
        cfg.set("task", ResultsIO.JSON.valueToTree(task));
        return cfg;
    }

    private static Map<String, SafeTensors.Entry> weights(LanguageModel model) {
        Backend be = model.backend();
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
        for (Parameter p : model.parameters().list())
            tensors.put(p.name(), new SafeTensors.Entry(p.shape(), finite(p.name(), be.toFloats(p.value()))));
        return tensors;
    }

    private static Map<String, SafeTensors.Entry> moments(LanguageModel model, Optimizer opt) {
        Backend be = model.backend();
        List<Parameter> ps = model.parameters().list();
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
        for (int i = 0; i < ps.size(); i++) {
            Parameter p = ps.get(i);
            tensors.put(p.name() + ".exp_avg", new SafeTensors.Entry(p.shape(), finite(p.name() + ".exp_avg",
                    be.toFloats(opt.firstMoments().get(i)))));
            tensors.put(p.name() + ".exp_avg_sq", new SafeTensors.Entry(p.shape(), finite(p.name() + ".exp_avg_sq",
                    be.toFloats(opt.secondMoments().get(i)))));
        }
        return tensors;
    }

    /** A checkpoint never holds a NaN or an infinity: the trainer checks first, this is the last guard. */
    private static float[] finite(String name, float[] v) {
        int bad = firstNonFinite(v);
        if (bad >= 0)
            throw new NonFiniteException("weight", name, "non-finite weight: " + name + "[" + bad + "] is " + v[bad]
                    + "; no checkpoint is written with it");
        return v;
    }

    /** Files of a checkpoint being written into its temporary directory. */
    interface Writer {
        void tensors(String name, Map<String, SafeTensors.Entry> tensors, Map<String, String> metadata) throws IOException;

        void json(String name, JsonNode json) throws IOException;
    }

    @FunctionalInterface
    interface Content {
        void write(Writer files) throws IOException;
    }

    /** Writes into a temporary sibling, fsyncs, and swaps it in; the old checkpoint survives any failure. */
    static void write(Path dir, Sink sink, Content content) {
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent(), prev = sibling(target, PREVIOUS);
        Path tmp = sibling(target, TEMPORARY + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            Files.createDirectories(parent);
            removeStaleTemporaries(target);
            Files.createDirectory(tmp);
            Map<String, long[]> manifest = new LinkedHashMap<>(); // name -> {bytes, crc}
            content.write(new Writer() {
                @Override
                public void tensors(String name, Map<String, SafeTensors.Entry> tensors, Map<String, String> metadata) throws IOException {
                    manifest.put(name, writeFile(tmp.resolve(name), sink, ch -> SafeTensors.write(ch, tensors, metadata)));
                }

                @Override
                public void json(String name, JsonNode json) throws IOException {
                    byte[] bytes = ResultsIO.JSON.writeValueAsBytes(json);
                    manifest.put(name, writeFile(tmp.resolve(name), sink, ch -> writeAll(ch, ByteBuffer.wrap(bytes))));
                }
            });
            ObjectNode m = ResultsIO.JSON.createObjectNode();
            m.put("format", MANIFEST_FORMAT);
            ObjectNode files = m.putObject("files");
            manifest.forEach((name, v) -> files.putObject(name).put("bytes", v[0]).put("crc32c", Long.toHexString(v[1])));
            byte[] mb = ResultsIO.JSON.writeValueAsBytes(m);
            writeFile(tmp.resolve(MANIFEST), sink, ch -> writeAll(ch, ByteBuffer.wrap(mb)));
            fsyncDirectory(tmp);
            // The swap. Between the two renames only checkpoint.prev exists; find() falls back to it.
            if (Files.exists(target)) {
                deleteRecursively(prev);
                Files.move(target, prev, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(parent);
            deleteRecursively(prev);
        } catch (IOException | RuntimeException e) {
            try {
                deleteRecursively(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            String kept = Files.isDirectory(target) ? "; the previous checkpoint " + target + " is intact"
                    : Files.isDirectory(prev) ? "; the previous checkpoint is intact in " + prev : "";
            throw new CheckpointException("writing checkpoint " + target + " failed: " + ErrorText.of(e) + kept, e);
        }
    }

    @FunctionalInterface
    private interface ChannelWriter {
        void write(WritableByteChannel ch) throws IOException;
    }

    /** Writes one file through the sink, fsyncs it, and returns {bytes, crc32c} of what was written. */
    private static long[] writeFile(Path file, Sink sink, ChannelWriter writer) throws IOException {
        CRC32C crc = new CRC32C();
        long[] count = {0};
        try (FileChannel fc = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            WritableByteChannel inner = sink.wrap(file, fc);
            WritableByteChannel counting = new WritableByteChannel() {
                @Override
                public int write(ByteBuffer src) throws IOException {
                    ByteBuffer view = src.duplicate();
                    int n = inner.write(src);
                    view.limit(view.position() + n);
                    crc.update(view);
                    count[0] += n;
                    return n;
                }

                @Override
                public boolean isOpen() {
                    return inner.isOpen();
                }

                @Override
                public void close() {
                }
            };
            writer.write(counting);
            fc.force(true);
        }
        return new long[]{count[0], crc.getValue()};
    }

    private static void writeAll(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the files themselves are synced.
        }
    }

    private static Path sibling(Path target, String suffix) {
        return target.resolveSibling(target.getFileName() + suffix);
    }

    /** Temporaries of writers that died (kill -9, power loss) are never complete: remove them. */
    private static void removeStaleTemporaries(Path target) throws IOException {
        if (!Files.isDirectory(target.getParent())) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(target.getParent(), target.getFileName() + TEMPORARY + "*")) {
            for (Path p : ds) deleteRecursively(p);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(q);
                } catch (NoSuchFileException ignored) {
                    // gone already
                }
            }
        }
    }

    // ---- reading -------------------------------------------------------------------------------------------

    /** The two forms a checkpoint takes; each has a fixed set of files, every one of them in the manifest. */
    public enum Kind {
        /** Everything to resume training. */
        FULL(List.of(CONFIG, WEIGHTS, OPTIMIZER, STATE)),
        /** Weights and configs only, for evaluation. */
        WEIGHTS_ONLY(List.of(CONFIG, WEIGHTS));

        /** The files besides the manifest, sorted. */
        public final List<String> files;

        Kind(List<String> files) {
            this.files = files;
        }
    }

    /**
     * The checkpoint to use for {@code dir}: a checkpoint directory itself, or a run directory holding
     * {@code checkpoint/}. A corrupt or incomplete one is skipped, with a warning, for the previous one
     * ({@code checkpoint.prev}, left by an interrupted swap); if none is usable the error lists each reason.
     */
    public static Path find(Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        if (Files.isRegularFile(d)) throw new CheckpointException(d + " is a file; give a checkpoint folder or a run folder holding checkpoint/");
        Path main = isCheckpointDir(d) || d.getFileName() == null || d.getFileName().toString().equals("checkpoint") ? d : d.resolve("checkpoint");
        List<String> problems = new ArrayList<>();
        for (Path candidate : List.of(main, sibling(main, PREVIOUS))) {
            if (!Files.isDirectory(candidate)) continue;
            try {
                verify(candidate);
                if (!candidate.equals(main))
                    log.warn("using the previous checkpoint {} ({})", candidate, String.join("; ", problems));
                return candidate;
            } catch (CheckpointException e) {
                problems.add(e.getMessage());
            }
        }
        if (problems.isEmpty()) throw new CheckpointException("no checkpoint in " + d + " (looked for " + main + ")");
        throw new CheckpointException(String.join("; ", problems));
    }

    private static boolean isCheckpointDir(Path d) {
        return Files.isRegularFile(d.resolve(CONFIG)) || Files.isRegularFile(d.resolve(MANIFEST)) || Files.isRegularFile(d.resolve(WEIGHTS));
    }

    /**
     * Checks a checkpoint folder and says which kind it is. Completeness does not depend on the manifest: the
     * folder must hold exactly the files of one {@link Kind} plus manifest.json, the manifest must list exactly
     * those files, and each file must have the listed size and CRC-32C. The one exception is a folder holding
     * only config.json and model.safetensors (a Hugging Face style export, or the first parrot versions): it
     * has no checksums, so it is returned as {@code null} and may only be evaluated — its weights are still
     * checked tensor by tensor against the model when loaded.
     */
    public static Kind verify(Path dir) {
        List<String> present = listFiles(dir);
        Path manifest = dir.resolve(MANIFEST);
        if (!present.contains(MANIFEST)) {
            if (present.equals(Kind.WEIGHTS_ONLY.files)) return null;
            throw new CheckpointException("checkpoint " + dir + " is incomplete: no " + MANIFEST
                    + " (its write was interrupted, or it was removed)");
        }
        JsonNode m;
        try {
            m = STRICT.readTree(manifest.toFile());
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " is not valid JSON: " + ErrorText.of(e));
        }
        if (m == null || !m.isObject() || !MANIFEST_FORMAT.equals(m.path("format").asText()) || !m.path("files").isObject())
            throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " is not a " + MANIFEST_FORMAT
                    + " manifest (needs \"format\": \"" + MANIFEST_FORMAT + "\" and a \"files\" object)");
        List<String> listed = new ArrayList<>();
        m.get("files").fieldNames().forEachRemaining(listed::add);
        listed.sort(null);
        Kind kind = listed.equals(Kind.FULL.files) ? Kind.FULL : listed.equals(Kind.WEIGHTS_ONLY.files) ? Kind.WEIGHTS_ONLY : null;
        if (kind == null)
            throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " lists " + listed + "; a checkpoint has exactly "
                    + Kind.FULL.files + " or, weights only, " + Kind.WEIGHTS_ONLY.files);
        List<String> expected = new ArrayList<>(kind.files);
        expected.add(MANIFEST);
        expected.sort(null);
        for (String f : present)
            if (!expected.contains(f))
                throw new CheckpointException("checkpoint " + dir + ": unexpected file " + f + " (a checkpoint holds exactly " + expected + ")");
        for (String name : kind.files) {
            JsonNode entry = m.get("files").get(name);
            JsonNode bytesNode = entry.path("bytes"), crcNode = entry.path("crc32c");
            if (!bytesNode.isIntegralNumber() || bytesNode.asLong() < 0 || !crcNode.isTextual() || !crcNode.asText().matches("[0-9a-f]{1,8}"))
                throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + ": files." + name
                        + " needs \"bytes\" (a non-negative integer) and \"crc32c\" (lowercase hex)");
            Path file = dir.resolve(name);
            try {
                if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    throw new CheckpointException("checkpoint " + dir + ": " + name + " is missing");
                long size = Files.size(file);
                if (size != bytesNode.asLong())
                    throw new CheckpointException("checkpoint " + dir + ": " + name + " has " + size
                            + " bytes, the manifest says " + bytesNode.asLong() + " (truncated or overwritten)");
                if (!Long.toHexString(crc32c(file)).equals(crcNode.asText()))
                    throw new CheckpointException("checkpoint " + dir + ": " + name + " fails its CRC-32C check (corrupted)");
            } catch (IOException e) {
                throw new CheckpointException("checkpoint " + dir + ": cannot read " + name + ": " + ErrorText.of(e));
            }
        }
        return kind;
    }

    private static List<String> listFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + ": cannot list it: " + ErrorText.of(e));
        }
    }

    private static long crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) crc.update(buf, 0, n);
        }
        return crc.getValue();
    }

    /** JSON of a checkpoint: duplicate keys, trailing tokens, nulls or missing fields for numbers are errors. */
    private static final ObjectMapper STRICT = ResultsIO.JSON.copy()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static JsonNode readJson(Path ck, String name) {
        try {
            JsonNode n = STRICT.readTree(ck.resolve(name).toFile());
            if (n == null || !n.isObject()) throw new CheckpointException("checkpoint " + ck + ": " + name + " is not a JSON object");
            return n;
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + ck + ": " + name + " is not valid JSON: " + ErrorText.of(e));
        }
    }

    /** The model and task of config.json, checked against each other. */
    private record Configs(JsonNode json, ModelConfig model, TaskConfig task, int vocab) {
    }

    private static Configs configs(Path ck, JsonNode cfg) {
        String where = "checkpoint " + ck + ": " + CONFIG;
        try {
            if (!FORMAT.equals(cfg.path("format").asText()))
                throw new CheckpointException(where + ": format must be \"" + FORMAT + "\", found " + cfg.path("format"));
            if (!cfg.path("model").isObject()) throw new CheckpointException(where + ": model must be an object");
            if (!cfg.path("task").isObject()) throw new CheckpointException(where + ": task must be an object");
            if (!cfg.path("vocab_size").isInt()) throw new CheckpointException(where + ": vocab_size must be an integer");
            ModelConfig mc = ConfigLoader.parseModel(cfg.get("model").toString());
            TaskConfig task = ConfigLoader.parseTask(cfg.get("task").toString());
            int vocab = cfg.get("vocab_size").asInt();
            if (vocab != task.vocabSize())
                throw new CheckpointException(where + ": vocab_size " + vocab + " differs from the task's " + task.vocabSize() + " tokens");
            return new Configs(cfg, mc, task, vocab);
        } catch (parrot.config.ConfigException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
    }

    /** Weights and configs, for evaluation; {@code dir} as for {@link #find}. Non-finite weights are refused. */
    public static Loaded load(Path dir, Backend be) {
        Path ck = find(dir);
        Configs c = configs(ck, readJson(ck, CONFIG));
        MemoryBudget.checkModel("checkpoint " + ck, c.model(), c.vocab(), be.dtype() == parrot.backend.Tensor.DType.F64 ? 8 : 4);
        LanguageModel model = ModelFactory.create(c.model(), c.vocab(), be, 0);
        Path weights = ck.resolve(WEIGHTS);
        try (SafeTensors.Reader r = SafeTensors.open(weights)) {
            loadWeights(model, r);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + ck + ": " + ErrorText.of(e));
        }
        return new Loaded(model, c.model(), c.task(), c.json());
    }

    /** Everything to continue training; {@code dir} as for {@link #find}. */
    public static Resumable loadForResume(Path dir) {
        Path ck = find(dir);
        if (!Files.isRegularFile(ck.resolve(STATE)))
            throw new CheckpointException("checkpoint " + ck + " holds weights only (no " + STATE + " and " + OPTIMIZER
                    + "): it can be evaluated but not resumed");
        JsonNode cfg = readJson(ck, CONFIG);
        Configs c = configs(ck, cfg);
        if (!cfg.path("experiment").isObject())
            throw new CheckpointException("checkpoint " + ck + ": " + CONFIG + " has no experiment config");
        ExperimentConfig exp;
        try {
            exp = ConfigLoader.parse(cfg.get("experiment").toString(), List.of());
        } catch (parrot.config.ConfigException e) {
            throw new CheckpointException("checkpoint " + ck + ": " + CONFIG + ": experiment." + e.getMessage());
        }
        ModelConfig mc = c.model();
        if (exp.models().stream().noneMatch(m -> m.equals(mc)))
            throw new CheckpointException("checkpoint " + ck + ": " + CONFIG + ": model " + mc.name()
                    + " is not one of the experiment's models (edited?)");
        if (!exp.task().equals(c.task()))
            throw new CheckpointException("checkpoint " + ck + ": " + CONFIG + ": task differs from the experiment's task (edited?)");
        TrainState state = readState(ck, exp);
        try (SafeTensors.Reader w = SafeTensors.open(ck.resolve(WEIGHTS));
             SafeTensors.Reader o = SafeTensors.open(ck.resolve(OPTIMIZER))) {
            String stepText = o.metadata().get("step");
            int optStep;
            try {
                optStep = Integer.parseInt(stepText == null ? "" : stepText);
            } catch (NumberFormatException e) {
                throw new CheckpointException("checkpoint " + ck + ": " + OPTIMIZER + ": metadata step must be an integer, found "
                        + (stepText == null ? "nothing" : "\"" + stepText + "\""));
            }
            if (optStep != state.step())
                throw new CheckpointException("checkpoint " + ck + ": optimizer step " + optStep + " differs from state step "
                        + state.step());
            Map<String, SafeTensors.Entry> weights = SafeTensors.read(w.file()), moments = SafeTensors.read(o.file());
            for (var e : weights.entrySet()) requireFinite(w.file(), e.getKey(), e.getValue().data(), false);
            for (var e : moments.entrySet()) requireFinite(o.file(), e.getKey(), e.getValue().data(), e.getKey().endsWith(".exp_avg_sq"));
            return new Resumable(ck, exp, mc, state, weights, moments, optStep);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + ck + ": " + ErrorText.of(e));
        }
    }

    private static TrainState readState(Path ck, ExperimentConfig exp) {
        String where = "checkpoint " + ck + ": " + STATE;
        JsonNode st = readJson(ck, STATE);
        if (!STATE_FORMAT.equals(st.path("format").asText()))
            throw new CheckpointException(where + ": format must be \"" + STATE_FORMAT + "\"");
        ObjectNode fields = st.deepCopy();
        for (String k : List.of("format", "experiment", "model", "data")) fields.remove(k);
        TrainState s;
        try {
            s = STRICT.treeToValue(fields, TrainState.class);
        } catch (IOException e) {
            throw new CheckpointException(where + ": " + ErrorText.of(e));
        }
        if (s.step() < 0 || s.step() > exp.train().steps())
            throw new CheckpointException(where + ": step must be in 0.." + exp.train().steps() + ", found " + s.step());
        if (s.examplesSeen() < 0) throw new CheckpointException(where + ": examples_seen must be >= 0, found " + s.examplesSeen());
        if (!(s.trainSeconds() >= 0) || Double.isInfinite(s.trainSeconds()))
            throw new CheckpointException(where + ": train_seconds must be a finite number >= 0, found " + s.trainSeconds());
        if (s.windowSteps() < 0 || s.windowSteps() > s.step())
            throw new CheckpointException(where + ": window_steps must be in 0.." + s.step() + ", found " + s.windowSteps());
        if (!Double.isFinite(s.windowLoss()) || (s.step() > 0 && !Double.isFinite(s.lastLoss())))
            throw new CheckpointException(where + ": window_loss and last_loss must be finite, found " + s.windowLoss() + " and " + s.lastLoss());
        return s;
    }

    /**
     * Puts a resumable checkpoint's weights and AdamW moments back into a freshly built model and optimizer:
     * exactly the model's tensors (none missing, none unexpected), with its shapes and finite values.
     */
    public static void restore(Resumable r, LanguageModel model, Optimizer opt) {
        loadWeights(model, r.weights(), r.dir().resolve(WEIGHTS));
        Backend be = model.backend();
        List<Parameter> ps = model.parameters().list();
        Set<String> expected = new TreeSet<>();
        for (Parameter p : ps) {
            expected.add(p.name() + ".exp_avg");
            expected.add(p.name() + ".exp_avg_sq");
        }
        Path file = r.dir().resolve(OPTIMIZER);
        unexpected(file, r.optimizer().keySet(), expected, "AdamW moment");
        for (int i = 0; i < ps.size(); i++) {
            Parameter p = ps.get(i);
            float[] m = tensor(r.optimizer(), p.name() + ".exp_avg", p.shape(), file);
            float[] v = tensor(r.optimizer(), p.name() + ".exp_avg_sq", p.shape(), file);
            for (int j = 0; j < v.length; j++)
                if (!(v[j] >= 0) || Float.isInfinite(v[j]))
                    throw new CheckpointException(file + ": tensor " + p.name() + ".exp_avg_sq[" + j + "] is " + v[j]
                            + " (a second moment is finite and >= 0)");
            be.upload(opt.firstMoments().get(i), m);
            be.upload(opt.secondMoments().get(i), v);
        }
        opt.restoreStepCount(r.optimizerStep());
    }

    private static float[] tensor(Map<String, SafeTensors.Entry> m, String name, int[] shape, Path file) {
        SafeTensors.Entry e = m.get(name);
        if (e == null) throw new CheckpointException(file + ": missing tensor " + name);
        if (!Arrays.equals(e.shape(), shape))
            throw new CheckpointException(file + ": tensor " + name + " has shape " + Arrays.toString(e.shape())
                    + ", the model needs " + Arrays.toString(shape));
        int bad = firstNonFinite(e.data());
        if (bad >= 0) throw new CheckpointException(file + ": tensor " + name + "[" + bad + "] is " + e.data()[bad] + " (weights must be finite)");
        return e.data();
    }

    private static void requireFinite(Path file, String name, float[] v, boolean nonNegative) {
        for (int j = 0; j < v.length; j++)
            if (!Float.isFinite(v[j]) || nonNegative && v[j] < 0)
                throw new CheckpointException(file + ": tensor " + name + "[" + j + "] is " + v[j]
                        + (nonNegative ? " (a second moment is finite and >= 0)" : " (weights must be finite)"));
    }

    static int firstNonFinite(float[] v) {
        for (int i = 0; i < v.length; i++) if (!Float.isFinite(v[i])) return i;
        return -1;
    }

    private static void unexpected(Path file, Set<String> have, Set<String> expected, String what) {
        for (String n : new TreeSet<>(have))
            if (!expected.contains(n))
                throw new CheckpointException(file + ": unexpected tensor " + n + " (not a " + what + " of this model; it has "
                        + expected.size() + " " + what + "s)");
    }

    /**
     * Copies tensors into the model by name: every parameter must be present with its exact shape and finite
     * values, and the file must hold no other tensor (one the model has no place for means the file was made
     * for another architecture, e.g. LayerNorm biases for an RMSNorm model).
     */
    public static void loadWeights(LanguageModel model, Map<String, SafeTensors.Entry> tensors, Path source) {
        Set<String> expected = new TreeSet<>();
        for (Parameter p : model.parameters().list()) expected.add(p.name());
        unexpected(source, tensors.keySet(), expected, "parameter");
        for (Parameter p : model.parameters().list())
            model.backend().upload(p.value(), tensor(tensors, p.name(), p.shape(), source));
    }

    /** The same, reading one tensor at a time from an open file (no other tensor is held in memory). */
    public static void loadWeights(LanguageModel model, SafeTensors.Reader r) throws IOException {
        Set<String> expected = new TreeSet<>();
        for (Parameter p : model.parameters().list()) expected.add(p.name());
        unexpected(r.file(), r.names(), expected, "parameter");
        for (Parameter p : model.parameters().list()) {
            if (!r.has(p.name())) throw new CheckpointException(r.file() + ": missing tensor " + p.name());
            long[] shape = r.info(p.name()).shape();
            if (!Arrays.equals(shape, Arrays.stream(p.shape()).asLongStream().toArray()))
                throw new CheckpointException(r.file() + ": tensor " + p.name() + " has shape " + Arrays.toString(shape)
                        + ", the model needs " + Arrays.toString(p.shape()));
            float[] v = r.readFloats(p.name());
            int bad = firstNonFinite(v);
            if (bad >= 0)
                throw new CheckpointException(r.file() + ": tensor " + p.name() + "[" + bad + "] is " + v[bad] + " (weights must be finite)");
            model.backend().upload(p.value(), v);
        }
    }

    private static JsonNode readTree(String json) {
        try {
            return ResultsIO.JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
