package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `parrot eval --hf`, `parrot eval --pretrained CONFIG` (skipping finished cells) and `parrot plot` of the results. */
class HfEvalCliTest {
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

    @Test
    void evalHfWritesResultsJson(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("pb.json");
        assertEquals(0, Main.run("eval", "--hf", HfModelTest.fixture("pythia-tiny").toString(), "--task", "phonebook",
                "--lengths", "3..4", "--samples", "2", "--json", json.toString(), "--device", "cpu"));
        JsonNode r = HfModelTest.JSON.readTree(json.toFile());
        assertEquals("parrot.pretrained/1", r.get("schema").asText());
        assertEquals("pythia-tiny", r.get("model").asText());
        assertEquals("gpt_neox", r.get("family").asText());
        assertEquals("phonebook", r.get("task").asText());
        assertEquals(2, r.get("results").size());
        assertEquals(3, r.get("results").get(0).get("length").asInt());
        assertEquals(2, r.get("results").get(0).get("n").asInt());
        assertTrue(r.get("results").get(0).has("accuracy"));
        assertFalse(r.get("results").get(0).has("f1"));
    }

    @Test
    void configSweepSkipsFinishedCellsAndPlots(@TempDir Path tmp) throws IOException {
        Path squad = tmp.resolve("squad.json");
        Files.writeString(squad, """
                {"data": [{"title": "T", "paragraphs": [
                  {"context": "Paris is the capital of France.", "qas": [
                     {"question": "What is Paris?", "answers": [{"text": "the capital"}]},
                     {"question": "Of what?", "answers": [{"text": "France"}]}]}]}]}
                """);
        Path cfg = tmp.resolve("pretrained.json");
        Files.writeString(cfg, """
                {"models": [{"name": "pythia", "hf": "%s"}, {"name": "mamba", "hf": "%s"}],
                 "tokenizer": "%s",
                 "tasks": [{"task": "phonebook", "lengths": "3..4", "samples": 2},
                           {"task": "copy-text-shuffled", "lengths": "5..10:5", "samples": 2},
                           {"task": "squad", "lengths": "40..80:40", "file": "squad.json"}],
                 "batch_size": 2, "out": "runs", "device": "cpu"}
                """.formatted(HfModelTest.fixture("pythia-tiny"), HfModelTest.fixture("mamba-tiny"),
                HfModelTest.fixture("pythia-tiny").resolve("tokenizer.json")));
        assertEquals(0, Main.run("eval", "--pretrained", cfg.toString()));
        for (String m : new String[]{"pythia", "mamba"})
            for (String t : new String[]{"phonebook", "copy-text-shuffled", "squad"})
                assertTrue(Files.isRegularFile(tmp.resolve("runs").resolve(m).resolve(t + ".json")), m + "/" + t);
        JsonNode sq = HfModelTest.JSON.readTree(tmp.resolve("runs/mamba/squad.json").toFile());
        assertEquals(1, sq.get("results").get(0).get("n").asInt());
        assertEquals(0, sq.get("results").get(1).get("n").asInt());
        assertTrue(sq.get("results").get(0).has("f1"));

        String out = stdout(() -> Main.run("eval", "--pretrained", cfg.toString()));
        assertTrue(out.contains("pythia: every task done, skipped") && out.contains("mamba: every task done, skipped"), out);

        assertEquals(0, Main.run("plot", tmp.resolve("runs").toString(), "--out", tmp.resolve("plots").toString()));
        for (String p : new String[]{"pretrained-phonebook.png", "pretrained-copy-text-shuffled.png", "pretrained-squad.png",
                "pretrained-squad-f1.png"}) {
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(tmp.resolve("plots").resolve(p)), 4);
            assertArrayEquals(PNG, head, p);
        }
    }

    @Test
    void theShippedConfigParses() {
        var c = parrot.eval.pretrained.PretrainedConfig.read(Path.of("experiments/pretrained/pythia-vs-mamba.json"));
        assertEquals(6, c.models().size());
        assertEquals(java.util.List.of("phonebook", "copy-text", "copy-text-shuffled", "squad"),
                c.tasks().stream().map(parrot.eval.pretrained.PretrainedConfig.Task::task).toList());
        assertTrue(c.out().endsWith(Path.of("runs/pretrained")), c.out().toString());
    }

    @Test
    void badInvocationsAreOneLine(@TempDir Path tmp) throws IOException {
        String hf = HfModelTest.fixture("pythia-tiny").toString();
        assertEquals("parrot: --task: required with --hf; one of phonebook, copy-text, copy-text-shuffled, squad",
                stderr(() -> Main.run("eval", "--hf", hf, "--lengths", "3")));
        assertEquals("parrot: give exactly one of --checkpoint, --hf, --pretrained",
                stderr(() -> Main.run("eval", "--hf", hf, "--checkpoint", hf, "--task", "phonebook", "--lengths", "3")));
        assertEquals("parrot: --squad: required with --task squad (a SQuAD v1.1 JSON file, e.g. dev-v1.1.json)",
                stderr(() -> Main.run("eval", "--hf", hf, "--task", "squad", "--lengths", "100", "--device", "cpu")));
        Path cfg = tmp.resolve("c.json");
        Files.writeString(cfg, "{\"models\": [{\"hf\": \"x\"}], \"tasks\": [{\"task\": \"copy\", \"lengths\": \"1\"}]}");
        assertEquals("parrot: " + cfg + ": tasks[0].task: 'copy' unknown; allowed: phonebook, copy-text, copy-text-shuffled, squad",
                stderr(() -> Main.run("eval", "--pretrained", cfg.toString())));
    }

    interface Run {
        int run();
    }

    static String stdout(Run r) {
        PrintStream old = System.out;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setOut(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, r.run());
        } finally {
            System.setOut(old);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    static String stderr(Run r) {
        PrintStream old = System.err;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            assertEquals(2, r.run());
        } finally {
            System.setErr(old);
        }
        return b.toString(StandardCharsets.UTF_8).strip();
    }
}
