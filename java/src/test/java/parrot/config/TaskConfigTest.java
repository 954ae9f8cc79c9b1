package parrot.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The task parameters, eval.tasks inheritance and the length checks that depend on them. */
class TaskConfigTest {
    private static final String BASE = """
            {"name": "e",
             "task": {"type": "lookup-suffix", "alphabet": 26, "lengths": "6..30", "ngram": 3, "answer_length": 3},
             "train": {"context": 80},
             "eval": {"lengths": "10..100:10"},
             "models": [{"name": "m"}]}
            """;

    private static ExperimentConfig parse(String json, String... overrides) {
        return ConfigLoader.parse(json, List.of(overrides));
    }

    private static void fails(String json, String prefix, String... overrides) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(json, overrides));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + e.getMessage());
    }

    @Test
    void parametersParseWithDefaults() {
        ExperimentConfig c = parse(BASE);
        assertEquals(new TaskConfig("lookup-suffix", 26, new IntRange(6, 30), 3, 3, 10), c.task());
        assertEquals(30 + 3 + 3 + 4, c.task().maxTokens());
        TaskConfig d = parse("{\"name\": \"e\", \"models\": [{\"name\": \"m\"}]}").task();
        assertEquals(3, d.ngram());
        assertEquals(3, d.answerLength());
        assertEquals(10, d.digits());
        assertEquals(List.of(), parse(BASE).eval().tasks());
    }

    @Test
    void badParametersNameTheirField() {
        fails(BASE, "task.ngram: must be in 1..1000, got 0", "task.ngram=0");
        fails(BASE, "task.answer_length: must be in 1..1000, got -1", "task.answer_length=-1");
        fails(BASE, "task.digits: must be in 1..100, got 0", "task.digits=0");
        fails(BASE, "task.lengths: lookup-suffix with ngram 3 and answer_length 3 needs length >= ngram + answer_length = 6, got 5..30",
                "task.lengths=5..30");
        fails(BASE, "eval.lengths: lookup-suffix with ngram 3 and answer_length 3 needs length >= ngram + answer_length = 6",
                "eval.lengths=1..100");
        fails(BASE, "task.lengths: copy-dup-ngram with ngram 4 needs length >= 2·ngram = 8", "task.type=copy-dup-ngram",
                "task.ngram=4");
        fails(BASE, "train.context: 80 is too short", "task.type=phonebook", "task.lengths=1..10");
    }

    @Test
    void evalTasksInheritFromTheTask() {
        String json = """
                {"name": "dup", "task": {"type": "copy", "alphabet": 10, "lengths": "1..20"},
                 "train": {"context": 64},
                 "eval": {"lengths": "20", "tasks": [{"type": "copy-dup-ngram", "ngram": 1},
                                                     {"type": "copy-dup-ngram", "ngram": 8}]},
                 "models": [{"name": "m"}]}
                """;
        ExperimentConfig c = parse(json);
        assertEquals(2, c.eval().tasks().size());
        TaskConfig t8 = c.eval().tasks().get(1);
        assertEquals("copy-dup-ngram", t8.type());
        assertEquals(8, t8.ngram());
        assertEquals(10, t8.alphabet(), "alphabet comes from the experiment's task");
        assertEquals(new IntRange(1, 20), t8.lengths());
        assertEquals(5, parse(json, "eval.tasks.0.ngram=5").eval().tasks().get(0).ngram());
        fails(json, "eval.tasks[1].ngram: copy-dup-ngram with ngram 11 needs length >= 2·ngram = 22, but eval.lengths starts at 20",
                "eval.tasks.1.ngram=11");
        fails(json, "eval.tasks[0].type: phonebook over alphabet 10 has 27 tokens", "eval.tasks.0.type=phonebook");
        fails(json, "eval.tasks[0].type: unknown value 'sort'", "eval.tasks.0.type=sort");
    }
}
