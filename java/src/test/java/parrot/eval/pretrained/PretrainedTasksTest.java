package parrot.eval.pretrained;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.data.Rng;
import parrot.hf.HfModel;
import parrot.hf.HfTokenizer;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prompt formats, post-processing and scoring of the pretrained tasks, and the ragged batched decoder. */
class PretrainedTasksTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static HfTokenizer tok;

    static Path fixture(String name) {
        try {
            return Path.of(PretrainedTasksTest.class.getResource("/hf/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void load() {
        tok = HfTokenizer.load(fixture("pythia-tiny"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void phoneBookPromptIsTheReferenceFormat() {
        PhoneBookPrompts pb = new PhoneBookPrompts();
        List<Example> ex = pb.examples(20, 5, new Rng(3));
        assertEquals(5, ex.size());
        Pattern entry = Pattern.compile("([A-Z][a-z]+ [A-Z][A-Za-z]+): ([6-9][0-9]{9})");
        for (Example e : ex) {
            String[] parts = e.prompt().split("\n\n", -1);
            assertEquals(3, parts.length, e.prompt());
            String[] book = parts[0].split("\n");
            assertEquals(20, book.length);
            Set<String> names = new HashSet<>();
            java.util.Map<String, String> numbers = new java.util.HashMap<>();
            for (String line : book) {
                Matcher m = entry.matcher(line);
                assertTrue(m.matches(), line);
                assertTrue(names.add(m.group(1)), "names are distinct: " + m.group(1));
                numbers.put(m.group(1), m.group(2));
            }
            String[] shots = parts[1].split("\n");
            assertEquals(2, shots.length);
            for (String s : shots) assertTrue(Arrays.asList(book).contains(s), "a shot repeats a book entry: " + s);
            assertNotEquals(shots[0], shots[1]);
            assertTrue(parts[2].endsWith(":") && !parts[2].contains(" :"), parts[2]);
            String query = parts[2].substring(0, parts[2].length() - 1);
            assertEquals(List.of(numbers.get(query)), e.answers());
            for (String s : shots) assertFalse(s.startsWith(query + ":"), "the query is a third entry");
            assertEquals(PhoneBookPrompts.MAX_NEW, e.maxNew());
        }
        // a pure function of the seed
        assertEquals(ex, pb.examples(20, 5, new Rng(3)));
        assertEquals("6123456789", pb.prediction(" 6123456789\nJohn Smith: 7"));
        assertEquals("", pb.prediction("\n6123456789"));
        assertThrows(IllegalArgumentException.class, () -> pb.examples(2, 1, new Rng(1)));
    }

    @Test
    void copyTextPromptAndBudget() {
        String text = PhoneBookPrompts.resource("first-names.txt").toString();   // any text will do
        CopyTextPrompts c = new CopyTextPrompts(tok, "the cat and the hat sat on the mat while the dog ran off. ".repeat(20), false);
        for (Example e : c.examples(15, 4, new Rng(5))) {
            String[] parts = e.prompt().split("\n\n", -1);
            assertEquals(3, parts.length);
            assertEquals(parts[0], parts[1]);
            String[] words = parts[0].split(" ", -1);
            assertEquals(words[0], parts[2]);
            assertEquals(List.of(String.join(" ", Arrays.asList(words).subList(1, words.length))), e.answers());
            assertEquals(parts[0].strip(), parts[0]);
            int p = tok.encode(e.prompt()).length;
            assertEquals((int) (1.5 * p) + 50 - p, e.maxNew());
            assertEquals(15, e.length());
        }
        // the shuffled variant permutes the window's tokens
        CopyTextPrompts s = new CopyTextPrompts(tok, text, true);
        CopyTextPrompts o = new CopyTextPrompts(tok, text, false);
        String shuffled = s.examples(30, 1, new Rng(9)).get(0).prompt().split("\n\n")[0];
        String plain = o.examples(30, 1, new Rng(9)).get(0).prompt().split("\n\n")[0];
        assertNotEquals(plain, shuffled);
        assertEquals("copy-text-shuffled", s.name());
        assertEquals("a b c", o.prediction(" a b\nc\n\nd e"));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> o.examples(100000, 1, new Rng(1)));
        assertTrue(tooLong.getMessage().contains("longer --text"), tooLong.getMessage());
    }

    @Test
    void squadPromptsBucketsAndScores(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("squad.json");
        Files.writeString(f, """
                {"version": "1.1", "data": [{"title": "T", "paragraphs": [
                  {"context": "Paris is the capital of France.", "qas": [
                     {"id": "1", "question": "What is Paris?", "answers": [{"answer_start": 9, "text": "the capital"}, {"text": "capital"}]},
                     {"id": "2", "question": "Of what?", "answers": [{"text": "France"}, {"text": "of France"}]}]},
                  {"context": "Only one question here, so it is skipped.", "qas": [
                     {"id": "3", "question": "Why?", "answers": [{"text": "one"}]}]},
                  {"context": "%s", "qas": [
                     {"id": "4", "question": "Q1?", "answers": [{"text": "a1"}]},
                     {"id": "5", "question": "Q2?", "answers": [{"text": "a2"}]}]}]}]}
                """.formatted("word ".repeat(60).strip()));
        SquadPrompts s = new SquadPrompts(tok, f, true);
        s.buckets(new int[]{60, 400});
        List<Example> small = s.examples(60, 30, new Rng(1));
        assertEquals(1, small.size());
        assertEquals("Paris is the capital of France.\n\nQuestion: What is Paris?\nAnswer: the capital\n\nQuestion: Of what?\nAnswer: ",
                small.get(0).prompt());
        assertEquals(List.of("France", "of France"), small.get(0).answers());
        assertEquals(SquadPrompts.MAX_NEW, small.get(0).maxNew());
        List<Example> large = s.examples(400, 30, new Rng(1));
        assertEquals(1, large.size());
        assertTrue(large.get(0).prompt().startsWith("word word"));
        assertTrue(s.suppressEosFirst());
        assertEquals("France", s.prediction(" France\n\nQuestion: more"));
        assertEquals("Fr", s.prediction("Fr<|endoftext|>ance"));
        assertTrue(s.exactMatch("the France.", List.of("France")));

        Files.writeString(f, "{\"data\": [{\"paragraphs\": [{\"qas\": []}]}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SquadPrompts(tok, f, false));
        assertTrue(e.getMessage().contains("data[0].paragraphs[0].context: required"), e.getMessage());
    }

    @Test
    void squadNormalisationEmAndF1AsTheReferenceCode() throws IOException {
        JsonNode cases = JSON.readTree(fixture("squad-cases.json").toFile()).get("cases");
        assertTrue(cases.size() >= 10);
        for (JsonNode c : cases) {
            String pred = c.get("prediction").asText();
            List<String> golds = new ArrayList<>();
            c.get("answers").forEach(a -> golds.add(a.asText()));
            assertEquals(c.get("normalized").asText(), SquadScore.normalize(pred), pred);
            assertEquals(c.get("em").asDouble() == 1.0, SquadScore.exactMatch(pred, golds), pred);
            assertEquals(c.get("f1").asDouble(), SquadScore.f1(pred, golds), 1e-12, pred);
        }
    }

    @Test
    void raggedBatchesDecodeAsEachPromptAlone() {
        for (String folder : List.of("pythia-tiny", "mamba-tiny")) {
            try (Backend be = new CpuBackend()) {
                HfModel m = HfModel.load(fixture(folder), be, null);
                int[][] prompts = {tok.encode("the cat and the hat"), tok.encode("Anna"), tok.encode("what is the capital of it")};
                int[] budget = {6, 9, 4};
                int[][] batched = BatchGreedy.generate(m.model(), prompts, budget, -1, false, (b, g, n) -> false);
                for (int i = 0; i < prompts.length; i++) {
                    int[][] alone = BatchGreedy.generate(m.model(), new int[][]{prompts[i]}, new int[]{budget[i]}, -1, false,
                            (b, g, n) -> false);
                    assertArrayEquals(alone[0], batched[i], folder + " prompt " + i);
                    assertEquals(budget[i], batched[i].length);
                }
                // a stop rule ends one sequence early; the end-of-text token ends it and can be suppressed first
                int[][] stopped = BatchGreedy.generate(m.model(), prompts, budget, -1, false, (b, g, n) -> b == 1 && n == 2);
                assertEquals(2, stopped[1].length);
                assertArrayEquals(batched[0], stopped[0]);
                int first = batched[0][0];
                int[][] eos = BatchGreedy.generate(m.model(), new int[][]{prompts[0]}, new int[]{6}, first, false, (b, g, n) -> false);
                assertArrayEquals(new int[]{first}, eos[0]);
                int[][] sup = BatchGreedy.generate(m.model(), new int[][]{prompts[0]}, new int[]{1}, first, true, (b, g, n) -> false);
                assertNotEquals(first, sup[0][0]);
                m.release();
            }
        }
    }

    /**
     * Prefilling the common prompt prefix and skipping the head inside the longer prompts give the tokens of the
     * plain path (every position stepped, head everywhere), with ragged prompts, a sequence with no budget (the
     * shortest, so nothing is wanted at the prefill's last position), a stop rule and a suppressed end-of-text.
     */
    @Test
    void prefillAndHeadSkippingGiveThePlainPathsTokens() {
        for (String folder : List.of("pythia-tiny", "mamba-tiny")) {
            try (Backend be = new CpuBackend()) {
                HfModel m = HfModel.load(fixture(folder), be, null);
                int[][] prompts = {tok.encode("the cat and the hat sat on the mat"), tok.encode("Anna"),
                        tok.encode("what is the capital of it"), tok.encode("Anna Smith: 6")};
                int[][] budgets = {{6, 9, 4, 3}, {5, 0, 7, 2}, {1, 1, 1, 1}};
                for (int[] budget : budgets) {
                    int[][] plain = BatchGreedy.generate(m.model(), prompts, budget, -1, false, (b, g, n) -> false, false);
                    int[][] fast = BatchGreedy.generate(m.model(), prompts, budget, -1, false, (b, g, n) -> false, true);
                    for (int i = 0; i < prompts.length; i++)
                        assertArrayEquals(plain[i], fast[i], folder + " prompt " + i + " budgets " + java.util.Arrays.toString(budget));
                }
                int first = BatchGreedy.generate(m.model(), prompts, new int[]{1, 1, 1, 1}, -1, false, (b, g, n) -> false)[0][0];
                BatchGreedy.Stop stop = (b, g, n) -> b == 2 && n == 3;
                int[][] plain = BatchGreedy.generate(m.model(), prompts, new int[]{4, 4, 4, 4}, first, true, stop, false);
                int[][] fast = BatchGreedy.generate(m.model(), prompts, new int[]{4, 4, 4, 4}, first, true, stop, true);
                for (int i = 0; i < prompts.length; i++) assertArrayEquals(plain[i], fast[i], folder + " eos/stop, prompt " + i);
                m.release();
            }
        }
    }

    @Test
    void evaluatorScoresWhatTheModelWrites() {
        try (Backend be = new CpuBackend()) {
            HfModel m = HfModel.load(fixture("pythia-tiny"), be, null);
            // the answer is whatever this model writes greedily, so a correct scorer must give accuracy 1
            String prompt = "the cat and the hat";
            int[] gen = BatchGreedy.generate(m.model(), new int[][]{tok.encode(prompt)}, new int[]{5}, -1, false, (b, g, n) -> false)[0];
            String written = tok.decode(gen);
            PretrainedTask exact = new PretrainedTask() {
                public String name() { return "t"; }
                public String lengthUnit() { return "u"; }
                public List<Example> examples(int length, int samples, Rng rng) {
                    List<Example> out = new ArrayList<>();
                    for (int i = 0; i < samples; i++) out.add(new Example(prompt, List.of(i % 2 == 0 ? written : written + "x"), 5, length));
                    return out;
                }
                public String prediction(String generated) { return generated; }
                public String stopText() { return "\n\n\n\n"; }
            };
            PretrainedEvaluator ev = new PretrainedEvaluator(m.model(), tok, exact, 3, -1, 1);
            List<PointResult> r = ev.evaluate(new int[]{7}, 4, null);
            assertEquals(List.of(new PointResult(7, 4, 0.5, null)), r);
        }
    }
}
