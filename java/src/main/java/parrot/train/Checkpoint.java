package parrot.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.config.TaskConfig;
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
    public static final class CheckpointException extends RuntimeException {
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
        write(dir, Sink.DIRECT, files -> {
            files.tensors(WEIGHTS, weights(model), Map.of("format", "pt", "parrot", FORMAT));
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
        write(dir, sink, files -> {
            files.tensors(WEIGHTS, weights(model), Map.of("format", "pt", "parrot", FORMAT));
            files.tensors(OPTIMIZER, moments(model, opt), Map.of("format", "pt", "parrot", FORMAT,
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
            tensors.put(p.name(), new SafeTensors.Entry(p.shape(), be.toFloats(p.value())));
        return tensors;
    }

    private static Map<String, SafeTensors.Entry> moments(LanguageModel model, Optimizer opt) {
        Backend be = model.backend();
        List<Parameter> ps = model.parameters().list();
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
        for (int i = 0; i < ps.size(); i++) {
            Parameter p = ps.get(i);
            tensors.put(p.name() + ".exp_avg", new SafeTensors.Entry(p.shape(), be.toFloats(opt.firstMoments().get(i))));
            tensors.put(p.name() + ".exp_avg_sq", new SafeTensors.Entry(p.shape(), be.toFloats(opt.secondMoments().get(i))));
        }
        return tensors;
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
            throw new CheckpointException("writing checkpoint " + target + " failed: " + e + kept, e);
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

    /**
     * The checkpoint to use for {@code dir}: a checkpoint directory itself, or a run directory holding
     * {@code checkpoint/}. A corrupt or incomplete one is skipped, with a warning, for the previous one
     * ({@code checkpoint.prev}, left by an interrupted swap); if none is usable the error lists each reason.
     */
    public static Path find(Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        Path main = isCheckpointDir(d) || d.getFileName().toString().equals("checkpoint") ? d : d.resolve("checkpoint");
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
        return Files.isRegularFile(d.resolve(CONFIG)) || Files.isRegularFile(d.resolve(MANIFEST));
    }

    /**
     * Checks every file against the manifest (size, then CRC-32C). A checkpoint without a manifest is accepted
     * only in the weights-only form of the first parrot versions (config.json and model.safetensors, no state).
     */
    public static void verify(Path dir) {
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            if (Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS))
                    && !Files.exists(dir.resolve(STATE)) && !Files.exists(dir.resolve(OPTIMIZER)))
                return;
            throw new CheckpointException("checkpoint " + dir + " is incomplete: no " + MANIFEST
                    + " (its write was interrupted)");
        }
        JsonNode m;
        try {
            m = ResultsIO.JSON.readTree(manifest.toFile());
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " is unreadable: " + e.getMessage(), e);
        }
        if (m == null || !MANIFEST_FORMAT.equals(m.path("format").asText()) || !m.path("files").isObject())
            throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " is not a " + MANIFEST_FORMAT + " manifest");
        for (var it = m.get("files").fields(); it.hasNext(); ) {
            var f = it.next();
            Path file = dir.resolve(f.getKey());
            long bytes = f.getValue().path("bytes").asLong(-1);
            String crc = f.getValue().path("crc32c").asText();
            try {
                long size = Files.size(file);
                if (size != bytes)
                    throw new CheckpointException("checkpoint " + dir + ": " + f.getKey() + " has " + size
                            + " bytes, the manifest says " + bytes + " (truncated or overwritten)");
                if (!Long.toHexString(crc32c(file)).equals(crc))
                    throw new CheckpointException("checkpoint " + dir + ": " + f.getKey()
                            + " fails its CRC-32C check (corrupted)");
            } catch (NoSuchFileException e) {
                throw new CheckpointException("checkpoint " + dir + ": " + f.getKey() + " is missing");
            } catch (IOException e) {
                throw new CheckpointException("checkpoint " + dir + ": cannot read " + f.getKey() + ": " + e, e);
            }
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

    /** Weights and configs, for evaluation; {@code dir} as for {@link #find}. */
    public static Loaded load(Path dir, Backend be) {
        Path ck = find(dir);
        try {
            JsonNode cfg = ResultsIO.JSON.readTree(ck.resolve(CONFIG).toFile());
            ModelConfig mc = ConfigLoader.parseModel(cfg.get("model").toString());
            TaskConfig task = ConfigLoader.parseTask(cfg.get("task").toString());
            LanguageModel model = ModelFactory.create(mc, cfg.get("vocab_size").asInt(), be, 0);
            loadWeights(model, SafeTensors.read(ck.resolve(WEIGHTS)), ck.resolve(WEIGHTS));
            return new Loaded(model, mc, task, cfg);
        } catch (IOException e) {
            throw new UncheckedIOException("reading checkpoint " + ck, e);
        }
    }

    /** Everything to continue training; {@code dir} as for {@link #find}. */
    public static Resumable loadForResume(Path dir) {
        Path ck = find(dir);
        if (!Files.isRegularFile(ck.resolve(STATE)))
            throw new CheckpointException("checkpoint " + ck + " holds weights only (no " + STATE + " and " + OPTIMIZER
                    + "): it can be evaluated but not resumed");
        try {
            JsonNode cfg = ResultsIO.JSON.readTree(ck.resolve(CONFIG).toFile());
            if (!cfg.has("experiment"))
                throw new CheckpointException("checkpoint " + ck + ": " + CONFIG + " has no experiment config");
            ExperimentConfig exp = ConfigLoader.parse(cfg.get("experiment").toString(), List.of());
            ModelConfig mc = ConfigLoader.parseModel(cfg.get("model").toString());
            JsonNode st = ResultsIO.JSON.readTree(ck.resolve(STATE).toFile());
            if (!STATE_FORMAT.equals(st.path("format").asText()))
                throw new CheckpointException("checkpoint " + ck + ": " + STATE + " is not " + STATE_FORMAT);
            ObjectNode fields = st.deepCopy();
            for (String k : List.of("format", "experiment", "model", "data")) fields.remove(k);
            TrainState state = ResultsIO.JSON.treeToValue(fields, TrainState.class);
            Map<String, String> meta = SafeTensors.metadata(ck.resolve(OPTIMIZER));
            int optStep = Integer.parseInt(meta.getOrDefault("step", "-1"));
            if (optStep != state.step())
                throw new CheckpointException("checkpoint " + ck + ": optimizer step " + optStep + " differs from state step "
                        + state.step());
            return new Resumable(ck, exp, mc, state, SafeTensors.read(ck.resolve(WEIGHTS)),
                    SafeTensors.read(ck.resolve(OPTIMIZER)), optStep);
        } catch (IOException | NumberFormatException e) {
            throw new CheckpointException("reading checkpoint " + ck + ": " + e.getMessage(), e);
        }
    }

    /** Puts a resumable checkpoint's weights and AdamW moments back into a freshly built model and optimizer. */
    static void restore(Resumable r, LanguageModel model, Optimizer opt) {
        loadWeights(model, r.weights(), r.dir().resolve(WEIGHTS));
        Backend be = model.backend();
        List<Parameter> ps = model.parameters().list();
        for (int i = 0; i < ps.size(); i++) {
            Parameter p = ps.get(i);
            be.upload(opt.firstMoments().get(i), tensor(r.optimizer(), p.name() + ".exp_avg", p.shape(), r.dir()));
            be.upload(opt.secondMoments().get(i), tensor(r.optimizer(), p.name() + ".exp_avg_sq", p.shape(), r.dir()));
        }
        opt.restoreStepCount(r.optimizerStep());
    }

    private static float[] tensor(Map<String, SafeTensors.Entry> m, String name, int[] shape, Path dir) {
        SafeTensors.Entry e = m.get(name);
        if (e == null) throw new CheckpointException("checkpoint " + dir + ": " + OPTIMIZER + " lacks " + name);
        if (!Arrays.equals(e.shape(), shape))
            throw new CheckpointException("checkpoint " + dir + ": " + name + " has shape " + Arrays.toString(e.shape())
                    + ", the model needs " + Arrays.toString(shape));
        return e.data();
    }

    /** Copies tensors into the model by name; every parameter must be present with its exact shape. */
    public static void loadWeights(LanguageModel model, Map<String, SafeTensors.Entry> tensors, Path source) {
        for (Parameter p : model.parameters().list()) {
            SafeTensors.Entry e = tensors.get(p.name());
            if (e == null) throw new IllegalArgumentException(source + ": missing tensor " + p.name());
            if (!Arrays.equals(e.shape(), p.shape()))
                throw new IllegalArgumentException(source + ": tensor " + p.name() + " has shape "
                        + Arrays.toString(e.shape()) + ", the model needs " + Arrays.toString(p.shape()));
            model.backend().upload(p.value(), e.data());
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
