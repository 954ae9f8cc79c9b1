package parrot.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.train.MemoryBudget;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault suite, configs: random malformed experiment configs, --set overrides and command lines through the CLI
 * entry point. Each must either run (exit 0) or be refused with one line; no stack trace, ever. A config the
 * loader accepts but that would take long to train (10^9 steps, say) is counted, not run — unless the memory
 * estimate refuses it, which the CLI must then do in one line too.
 */
class ConfigFaultsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String BASE = """
            {"name": "fz", "seed": 3,
             "task": {"type": "copy", "lengths": "1..4"},
             "train": {"steps": 2, "batch_size": 2, "context": 16, "lr": 0.001, "warmup_steps": 1, "log_every": 1},
             "eval": {"lengths": "1..3", "samples": 2, "batch_size": 2},
             "models": [{"name": "m", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "rope"}]}
            """;
    static final List<String> PATHS = List.of("name", "seed", "task", "task.type", "task.alphabet", "task.lengths", "task.ngram",
            "task.answer_length", "task.digits", "train", "train.steps", "train.batch_size", "train.context", "train.lr",
            "train.warmup_steps", "train.schedule", "train.min_lr_ratio", "train.weight_decay", "train.beta1", "train.beta2",
            "train.eps", "train.clip", "train.log_every", "train.checkpoint_every", "train.device", "train.eval_every", "eval",
            "eval.lengths", "eval.samples", "eval.batch_size", "eval.tasks", "models", "models.0", "models.0.name",
            "models.0.family", "models.0.d_model", "models.0.n_heads", "models.0.n_layers", "models.0.positional",
            "models.0.hard_alibi_heads", "models.0.windows", "models.0.rotary_pct", "models.0.rope_base",
            "models.0.intermediate_size", "models.0.layer_norm_eps", "models.0.init_std", "models.0.d_state", "models.0.d_conv",
            "models.0.expand", "models.0.dt_rank", "models.0.norm", "models.0.blocks", "models.0.lstm_hidden", "bogus",
            "train.bogus", "models.0.bogus");
    static final List<String> VALUES = List.of("0", "-1", "1", "2", "3", "7", "64", "2147483647", "-2147483648", "1000000000",
            "100000", "10000000000000000000", "1.5", "1e308", "-0.0", "1e-300", "\"3\"", "\"\"", "\"x\"", "\"1..2\"", "\"10..1\"",
            "\"1..2000000000\"", "\"0..3\"", "\"1..8:0\"", "\"2..6:2\"", "null", "true", "[]", "{}", "[1,2]", "[0,1]", "\"NaN\"",
            "\"auto\"", "\"cpu\"", "\"cuda:7\"", "\"rope\"", "\"nope\"", "\"alibi\"", "\"hard-alibi\"", "\"mamba\"", "\"hybrid\"",
            "\"lstm\"", "\"transformer\"", "\"mamba,attn\"", "\"attn*0\"", "\"rmsnorm\"", "\"cosine\"", "\"lookup-suffix\"",
            "\"copy-dup-ngram\"", "\"phonebook\"", "[{\"type\": \"copy-dup-ngram\"}]", "[null]", "{\"name\": \"m\"}",
            "\"" + "n".repeat(300) + "\"", "\"a.b\"", "\"1..100000000\"");
    static final Figures FIG = new Figures("configs and overrides");
    static Path work;

    static synchronized Path work() throws IOException {
        if (work == null) work = Files.createTempDirectory("parrot-faults-config");
        return work;
    }

    /** One generated input: how it is given (file edit, --set, raw text damage, a command line) and what. */
    record Input(String kind, String path, String value, int cut) {
    }

    @Provide
    Arbitrary<Input> inputs() {
        Arbitrary<String> kind = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.just("set-field")), net.jqwik.api.Tuple.of(2, Arbitraries.just("remove-field")),
                net.jqwik.api.Tuple.of(5, Arbitraries.just("override")), net.jqwik.api.Tuple.of(1, Arbitraries.just("cut-text")),
                net.jqwik.api.Tuple.of(1, Arbitraries.just("cli")));
        return Combinators.combine(kind, Arbitraries.of(PATHS), Arbitraries.of(VALUES), Arbitraries.integers().between(0, 10_000))
                .as(Input::new);
    }

    // A fixed seed, as in CheckpointFaultsTest: the same 2000 inputs every run (FaultSeeds).
    @Property(tries = 2000, shrinking = ShrinkingMode.OFF, seed = FaultSeeds.CONFIGS)
    void everyConfigRunsOrIsRefusedInOneLine(@ForAll("inputs") Input in) throws IOException {
        Path dir = Files.createTempDirectory(work(), "c");
        Path file = dir.resolve("exp.json");
        List<String> overrides = new ArrayList<>();
        List<String> args = new ArrayList<>(List.of("train", "--config", file.toString(), "--out", dir.resolve("out").toString(),
                "--no-progress", "--device", "cpu"));
        String text = BASE;
        switch (in.kind()) {
            case "set-field", "remove-field" -> {
                ObjectNode root = (ObjectNode) JSON.readTree(BASE);
                edit(root, in.path(), in.kind().equals("remove-field") ? null : JSON.readTree(in.value()));
                text = JSON.writeValueAsString(root);
            }
            case "override" -> overrides.add(in.path() + "=" + unquote(in.value()));
            case "cut-text" -> text = BASE.substring(0, in.cut() % BASE.length()) + (in.cut() % 3 == 0 ? in.value() : "");
            case "cli" -> args = cli(in, file, dir);
            default -> throw new AssertionError(in.kind());
        }
        Files.writeString(file, text);
        for (String o : overrides) args.addAll(List.of("--set", o));
        FIG.tried++;

        // Decide whether running it is affordable: the loader's verdict first (cheap), then the cost.
        ExperimentConfig exp = null;
        if (!in.kind().equals("cli")) {
            try {
                exp = ConfigLoader.load(file, overrides);
            } catch (RuntimeException refused) {
                // the CLI must refuse it too, in one line
            }
            // Training a valid config is the slow part: the CLI trains one valid config in eight (its checks and
            // run are the same for all of them); the others count as accepted by the loader.
            if (exp != null && (!cheap(exp) || in.cut() % 8 != 0) && !memoryRefuses(exp)) {
                FIG.accepted++;
                FIG.acceptedNotRun++;
                return;
            }
        }
        Cli.Outcome o = Cli.run(args);
        if (o.trace()) {
            FIG.traces++;
            FIG.fail("stack trace", o.describe());
        } else if (o.code() == 0) {
            FIG.accepted++;
        } else if (o.refusedInOneLine()) {
            FIG.refused++;
        } else {
            FIG.badRefusals++;
            FIG.fail("refusal not in one line", o.describe());
        }
        assertTrue(!o.trace() && (o.code() == 0 || o.refusedInOneLine()), o.describe());
    }

    private static List<String> cli(Input in, Path file, Path dir) throws IOException {
        Path out = dir.resolve("out");
        String v = unquote(in.value());
        return switch (in.cut() % 9) {
            case 0 -> List.of("eval", "--checkpoint", dir.resolve("nothing").toString(), "--lengths", v);
            case 1 -> {
                Files.writeString(out, "a file");
                yield List.of("train", "--config", file.toString(), "--out", out.toString(), "--no-progress");
            }
            case 2 -> List.of("train", "--config", file.toString(), "--model", v, "--out", out.toString(), "--no-progress");
            case 3 -> List.of("train", "--resume", dir.resolve(v.isEmpty() ? "x" : v.replace('/', '_')).toString());
            case 4 -> List.of("sweep", file.toString(), "--shard", v, "--dry-run");
            case 5 -> List.of("train", "--config", file.toString(), "--device", v, "--out", out.toString());
            case 6 -> List.of("merge", dir.toString(), "--out", out.toString());
            case 7 -> List.of("plot", file.toString(), "--out", out.toString());
            default -> List.of("train", "--config", file.toString(), "--resume", out.toString());
        };
    }

    /** Small enough to train and evaluate in well under a second. */
    private static boolean cheap(ExperimentConfig e) {
        if (e.train().steps() > 3 || e.train().batchSize() > 8 || e.train().context() > 64 || e.eval().lengths().hi() > 12
                || e.eval().samples() > 4 || e.eval().tasks().size() > 2 || e.task().lengths().hi() > 12) return false;
        for (ModelConfig m : e.models())
            if (m.dModel() > 128 || m.stack().size() > 3 || (m.family().equals("mamba") && m.dState() * m.expand() > 64)
                    || m.mlpSize() > 512 || m.lstmSize() > 128 || m.dConv() > 8 || m.resolvedDtRank() > 32) return false;
        return true;
    }

    /** Whether the CLI's memory estimate will refuse it (then running it is cheap: it stops before allocating). */
    private static boolean memoryRefuses(ExperimentConfig e) {
        try {
            for (ModelConfig m : e.models()) {
                MemoryBudget.checkTraining("m", m, e.task().vocabSize(), e.train().batchSize(), e.train().context(), 4, true);
                MemoryBudget.checkEval("m", m, e.task().vocabSize(), Math.min(e.eval().batchSize(), e.eval().samples()),
                        e.task().maxTokens(e.eval().lengths().hi()), 4);
            }
            return false;
        } catch (RuntimeException refused) {
            return true;
        }
    }

    static String unquote(String v) {
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
    }

    /** Sets (or, with null, removes) a dotted path; list elements by index. */
    static void edit(JsonNode root, String path, JsonNode value) {
        String[] parts = path.split("\\.");
        JsonNode n = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode next = n.isArray() ? n.get(Integer.parseInt(parts[i])) : n.get(parts[i]);
            if (next == null || !next.isContainerNode()) return;
            n = next;
        }
        String last = parts[parts.length - 1];
        if (n instanceof ObjectNode o) {
            if (value == null) o.remove(last);
            else o.set(last, value);
        } else if (n instanceof ArrayNode a && last.matches("\\d+") && Integer.parseInt(last) < a.size()) {
            if (value == null) a.remove(Integer.parseInt(last));
            else a.set(Integer.parseInt(last), value);
        }
    }

    @AfterContainer
    static void report() throws IOException {
        System.out.println(FIG.line());
        FIG.failures.forEach(f -> System.out.println("  " + f));
        if (work != null) parrot.faults.Files2.deleteTree(work);
        assertTrue(FIG.clean(), FIG.line() + "\n" + String.join("\n", FIG.failures));
    }
}
