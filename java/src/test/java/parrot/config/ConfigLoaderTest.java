package parrot.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.data.CopyTask;
import parrot.data.Task;
import parrot.data.Vocab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ConfigLoaderTest {
    private static final String MINIMAL = "{\"name\": \"exp\", \"models\": [{\"name\": \"m\"}]}";

    private static final String FULL = """
            {
              "name": "lengthgen",
              "seed": 7,
              "task": {"type": "copy", "alphabet": 26, "lengths": "1..20"},
              "train": {"steps": 200, "context": 64},
              "eval": {"lengths": "1..100:10", "samples": 20},
              "models": [
                {"name": "nope", "positional": "nope", "n_layers": 2},
                {"name": "hard", "positional": "hard-alibi", "hard_alibi_heads": 4},
                {"name": "win", "windows": [1, 2, 0, 0, 0, 0, 0, 0]}
              ]
            }
            """;

    private static ExperimentConfig parse(String json, String... overrides) {
        return ConfigLoader.parse(json, List.of(overrides));
    }

    /** The error must be one line and start with the field path. */
    private static ConfigException fails(String json, String fieldPrefix, String... overrides) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(json, overrides));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(fieldPrefix), "expected '" + fieldPrefix + "...', got: " + e.getMessage());
        return e;
    }

    @Test
    void defaultsFillIn() {
        ExperimentConfig c = parse(MINIMAL);
        assertEquals("exp", c.name());
        assertEquals(1, c.seed());
        assertEquals(TaskConfig.defaults(), c.task());
        assertEquals(TrainConfig.defaults(), c.train());
        assertEquals(EvalConfig.defaults(), c.eval());
        assertEquals(List.of(ModelConfig.defaults("m")), c.models());
        TrainConfig t = c.train();
        assertEquals(1000, t.steps());
        assertEquals(32, t.batchSize());
        assertEquals(64, t.context());
        assertEquals(1e-3, t.lr());
        assertEquals("linear", t.schedule());
        assertEquals("auto", t.device());
        ModelConfig m = c.models().get(0);
        assertEquals("transformer", m.family());
        assertEquals(64, m.dModel());
        assertEquals("hard-alibi", m.positional());
        assertEquals(4, m.hardAlibiHeads());             // n_heads / 2, stored resolved
        assertNull(m.windows());
        assertEquals(0.25, m.rotaryPct());
        assertEquals(new IntRange(1, 20), c.task().lengths());
        assertEquals(new IntRange(1, 60), c.eval().lengths());
    }

    @Test
    void partialSectionsKeepTheirOtherDefaults() {
        ExperimentConfig c = parse(FULL);
        assertEquals(200, c.train().steps());
        assertEquals(32, c.train().batchSize());
        assertEquals(new IntRange(1, 100, 10), c.eval().lengths());
        assertEquals(EvalConfig.DEFAULT_SAMPLES, c.eval().batchSize());
        assertEquals(2, c.models().get(0).nLayers());
        assertEquals(4, c.models().get(1).hardAlibiHeads());
        assertSame(c.models().get(2), c.model("win"));
    }

    @Test
    void roundTrips() {
        ExperimentConfig c = parse(FULL);
        String json = ConfigLoader.toJson(c);
        assertTrue(json.contains("\"d_model\""), json);
        assertTrue(json.contains("\"batch_size\""), json);
        assertTrue(json.contains("\"1..100:10\""), json);
        assertTrue(json.contains("\n"), "pretty");
        assertEquals(c, ConfigLoader.parse(json, List.of()));
        assertEquals(json, ConfigLoader.toJson(ConfigLoader.parse(json, List.of())));
    }

    @Test
    void lonelyModelRoundTrips() {
        ModelConfig m = parse(FULL).model("hard");
        assertEquals(m, ConfigLoader.parseModel(ConfigLoader.toJson(m)));
        assertEquals(ModelConfig.defaults("x"), ConfigLoader.parseModel("{\"name\": \"x\"}"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parseModel("{\"name\": \"x\", \"n_heds\": 2}"));
        assertTrue(e.getMessage().startsWith("unknown field 'n_heds'"), e.getMessage());
    }

    @Test
    void loadsFromAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("exp.json");
        Files.writeString(file, FULL);
        assertEquals(parse(FULL, "seed=3"), ConfigLoader.load(file, List.of("seed=3")));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("missing.json"), List.of()));
        assertTrue(e.getMessage().contains("missing.json"), e.getMessage());
    }

    @Test
    void overridesByPathIndexAndName() {
        ExperimentConfig c = parse(FULL, "train.steps=500", "seed=3", "task.lengths=1..10", "models.0.d_model=32",
                "models.hard.n_layers=1", "train.device=cuda:1", "eval.lengths=5", "models.win.windows=[2,0,0,0,0,0,0,0]");
        assertEquals(500, c.train().steps());
        assertEquals(3, c.seed());
        assertEquals(new IntRange(1, 10), c.task().lengths());
        assertEquals(32, c.model("nope").dModel());
        assertEquals(1, c.model("hard").nLayers());
        assertEquals(2, c.model("win").nLayers());
        assertEquals("cuda:1", c.train().device());
        assertEquals(IntRange.of(5), c.eval().lengths());
        assertArrayEquals(new int[]{2, 0, 0, 0, 0, 0, 0, 0}, c.model("win").resolvedWindows());
    }

    @Test
    void overridesCreateMissingSectionsAndTakeStringsVerbatim() {
        ExperimentConfig c = parse(MINIMAL, "train.lr=3e-4", "name=2024", "models.m.positional=rope",
                "train.schedule=\"cosine\"", "models.0.hard_alibi_heads=null");
        assertEquals(3e-4, c.train().lr());
        assertEquals(1000, c.train().steps());
        assertEquals("2024", c.name()); // a string field takes the raw text, though 2024 parses as a number
        assertEquals("rope", c.models().get(0).positional());
        assertEquals("cosine", c.train().schedule());
    }

    @Test
    void overrideReplacesAWholeModel() {
        ExperimentConfig c = parse(MINIMAL, "models.0={\"name\": \"small\", \"d_model\": 16, \"n_heads\": 2}");
        assertEquals("small", c.models().get(0).name());
        assertEquals(8, c.models().get(0).headDim());
    }

    @Test
    void badOverridesNameThemselves() {
        for (String o : new String[]{"train.steps", "=5", "train.stpes=5", "models.7.d_model=3", "models.nobody.d_model=3",
                "seed.x=1", "task.lengths.lo=1"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> parse(FULL, o), o);
            assertTrue(e.getMessage().startsWith("override '" + o + "'"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        ConfigException e = assertThrows(ConfigException.class, () -> parse(FULL, "train.stpes=5"));
        assertTrue(e.getMessage().contains("unknown field 'train.stpes'; allowed: steps, batch_size"), e.getMessage());
    }

    @Test
    void overrideValuesAreValidatedLikeFileValues() {
        fails(FULL, "train.steps: must be >= 1, got -5", "train.steps=-5");
        fails(FULL, "models[1].positional: unknown value 'foo'; allowed: nope, rope, alibi, hard-alibi", "models.hard.positional=foo");
    }

    @Test
    void unknownFieldIsAnErrorWithItsPath() {
        ConfigException e = fails(FULL.replace("\"n_layers\": 2", "\"n_layers\": 2, \"d_modle\": 3"), "unknown field 'models[0].d_modle'");
        assertTrue(e.getMessage().contains("allowed: name, family, d_model, n_heads"), e.getMessage());
        fails(MINIMAL.replace("{\"name\": \"exp\"", "{\"name\": \"exp\", \"trian\": {}"), "unknown field 'trian'");
        fails(MINIMAL.replace("{\"name\": \"exp\"", "{\"name\": \"exp\", \"train\": {\"step\": 3}"), "unknown field 'train.step'");
    }

    @Test
    void negativeLengthRange() {
        fails(FULL.replace("\"1..20\"", "\"-3..20\""), "task.lengths: must be >= 1, got -3..20");
        fails(FULL, "eval.lengths: must be >= 1", "eval.lengths=0..10");
    }

    @Test
    void invertedRange() {
        fails(FULL.replace("\"1..20\"", "\"5..2\""), "task.lengths: inverted range 5..2");
        fails(FULL, "eval.lengths: inverted range", "eval.lengths=9..3");
        fails(FULL, "task.lengths: expected a range like", "task.lengths=one..two");
        fails(FULL, "task.lengths: step must be >= 1", "task.lengths=1..5:0");
    }

    @Test
    void contextTooShortForTheLongestExample() {
        ConfigException e = fails(FULL, "train.context: 64 is too short for task.lengths up to 40 (needs >= 82)",
                "task.lengths=1..40");
        assertTrue(e.getMessage().contains("task.lengths"));
        assertEquals(82, parse(FULL, "task.lengths=1..40", "train.context=82").train().context());
    }

    @Test
    void windowsOfTheWrongLength() {
        fails(FULL.replace("[1, 2, 0, 0, 0, 0, 0, 0]", "[1, 2, 0]"), "models[2].windows: must have one entry per head (8), got 3");
        fails(FULL.replace("[1, 2, 0, 0, 0, 0, 0, 0]", "[1, 2, 0, 0, 0, 0, 0, -1]"), "models[2].windows[7]: must be >= 0");
    }

    @Test
    void badPositional() {
        fails(FULL.replace("\"positional\": \"nope\"", "\"positional\": \"foo\""),
                "models[0].positional: unknown value 'foo'; allowed: nope, rope, alibi, hard-alibi");
    }

    @Test
    void dModelNotDivisibleByHeads() {
        fails(FULL, "models[0].d_model: 60 is not divisible by n_heads 8", "models.nope.d_model=60");
    }

    @Test
    void otherBadValuesNameTheirField() {
        fails(FULL, "models[1].name: duplicate model name 'nope' (also models[0])", "models.1.name=nope");
        fails(FULL, "models: at least one model required", "models=[]");
        fails(FULL, "models[0].name: must not be all digits", "models.0.name=12");
        fails(FULL, "name: must be letters, digits", "name=my run");
        fails("{\"models\": [{\"name\": \"m\"}]}", "name: required");
        fails("{\"name\": \"e\", \"models\": [{}]}", "models[0].name: required");
        fails(FULL, "train.steps: expected an integer, got 1.5", "train.steps=1.5");
        fails(FULL, "train.steps: expected an integer, got \"many\"", "train.steps=many");
        fails(FULL, "train.schedule: unknown value 'step'; allowed: linear, cosine, constant", "train.schedule=step");
        fails(FULL, "train.device: unknown value 'gpu'", "train.device=gpu");
        fails(FULL, "task.type: unknown value 'sort'; allowed: copy", "task.type=sort");
        fails(FULL, "task.alphabet: must be in 2..26, got 30", "task.alphabet=30");
        fails(FULL, "models[0].family: unknown value 'rwkv'; allowed: transformer, mamba, lstm, hybrid", "models.0.family=rwkv");
        fails(FULL, "models[0].hard_alibi_heads: only used with positional hard-alibi", "models.0.hard_alibi_heads=2");
        fails(FULL, "train: expected an object", "train=3");
        fails("{\"name\": \"e\", \"models\": 3}", "models: expected a list");
        fails("[1]", "config: expected a JSON object");
        fails("{\"name\": \"e\",", "config: invalid JSON at line");
        fails("{\"name\": \"e\", \"name\": \"f\", \"models\": [{\"name\": \"m\"}]}", "config: invalid JSON");
    }

    /** config cannot depend on data, so it keeps its own token counts; they must agree. */
    @Test
    void taskTokenCountsAgreeWithTheDataPackage() {
        for (String type : TaskConfig.TYPES) {
            for (int[] p : new int[][]{{3, 3, 10}, {1, 5, 4}, {8, 2, 12}}) {
                TaskConfig tc = new TaskConfig(type, 26, new IntRange(20, 20), p[0], p[1], p[2]);
                Task task = parrot.train.Tasks.of(tc);
                for (int len : new int[]{16, 20, 300}) assertEquals(task.maxTokens(len), tc.maxTokens(len), type);
                assertEquals(task.vocab().size(), tc.vocabSize(), type);
                assertEquals(Math.max(1, task.minLength()), tc.minLength(), type);
            }
        }
        assertEquals(List.of("copy", "copy-dup-ngram", "lookup-prefix", "lookup-suffix", "phonebook"), TaskConfig.TYPES);
        assertEquals(Task.NAMES, TaskConfig.TYPES);
        assertEquals(new CopyTask(new Vocab(2)).maxTokens(40), 83);
    }
}
