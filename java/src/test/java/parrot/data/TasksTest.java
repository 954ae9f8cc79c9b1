package parrot.data;

import org.junit.jupiter.api.Test;
import parrot.eval.Evaluator;
import parrot.eval.LengthResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Format, loss masks and scoring of every task beyond plain copy (copy itself: CopyTaskTest, BatcherTest). */
class TasksTest {
    private final Vocab vocab = new Vocab(26);

    static List<Task> all() {
        return List.of(Task.create(TaskSpec.of("copy", 26)),
                Task.create(new TaskSpec("copy-dup-ngram", 26, 4, 3, 10)),
                Task.create(new TaskSpec("lookup-prefix", 26, 2, 3, 10)),
                Task.create(new TaskSpec("lookup-suffix", 4, 3, 2, 10)),
                Task.create(new TaskSpec("phonebook", 26, 3, 3, 6)));
    }

    @Test
    void namesAndFactoryAgree() {
        for (String name : Task.NAMES) assertEquals(name, Task.create(TaskSpec.of(name, 26)).name());
        assertEquals(Task.NAMES, all().stream().map(Task::name).toList());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Task.create(TaskSpec.of("sort", 26)));
        assertTrue(e.getMessage().contains("allowed: copy, copy-dup-ngram, lookup-prefix, lookup-suffix, phonebook"));
    }

    @Test
    void duplicatedNgramCopy() {
        for (int n = 1; n <= 8; n++) {
            DupNgramCopyTask task = new DupNgramCopyTask(vocab, n);
            Rng rng = new Rng(n);
            for (int len : new int[]{2 * n, 2 * n + 1, 30}) {
                for (int rep = 0; rep < 20; rep++) {
                    Example ex = task.sample(rng, len);
                    String s = vocab.decode(ex.tokens());
                    String x = s.substring(1, 1 + len);
                    assertEquals("$" + x + "|" + x + ".", s);
                    assertEquals(task.maxTokens(len), ex.length());
                    assertEquals(len + 2, ex.answerStart());
                    assertEquals(x, vocab.decode(ex.answer()));
                    assertTrue(hasRepeatedNgram(x, n), "no repeated " + n + "-gram in " + x);
                }
            }
            final int nn = n;
            assertThrows(IllegalArgumentException.class, () -> task.sample(new Rng(1), 2 * nn - 1));
        }
        // It is not plain copy: at length 20 with 26 letters a random string almost never repeats a 4-gram.
        int repeats = 0;
        Rng rng = new Rng(9);
        for (int i = 0; i < 200; i++) if (hasRepeatedNgram(vocab.decode(new CopyTask(vocab).sample(rng, 20).answer()), 4)) repeats++;
        assertTrue(repeats < 5, repeats + " plain copies repeat a 4-gram");
    }

    static boolean hasRepeatedNgram(String x, int n) {
        for (int i = 0; i + n <= x.length(); i++)
            for (int j = i + n; j + n <= x.length(); j++) if (x.regionMatches(i, x, j, n)) return true;
        return false;
    }

    @Test
    void lookupPrefixAndSuffix() {
        for (boolean prefix : new boolean[]{true, false}) {
            for (int n = 1; n <= 4; n++) {
                for (int k = 1; k <= 3; k++) {
                    Vocab small = new Vocab(3); // small alphabet: keys recur, so "first occurrence" matters
                    LookupTask task = new LookupTask(small, n, k, prefix);
                    Rng rng = new Rng(100 * n + k);
                    int laterKeys = 0;
                    for (int len : new int[]{n + k, n + k + 1, 12, 40}) {
                        for (int rep = 0; rep < 30; rep++) {
                            Example ex = task.sample(rng, len);
                            String s = small.decode(ex.tokens());
                            Matcher m = Pattern.compile(prefix ? "\\$([a-c]+)\\|([a-c]+)\\|([a-c]+)\\."
                                    : "\\$([a-c]+)\\|([a-c]+)\\|([a-c]+)\\.").matcher(s);
                            assertTrue(m.matches(), s);
                            String key = prefix ? m.group(1) : m.group(2), x = prefix ? m.group(2) : m.group(1);
                            String answer = m.group(3);
                            assertEquals(n, key.length(), s);
                            assertEquals(len, x.length(), s);
                            assertEquals(k, answer.length(), s);
                            int first = x.indexOf(key);
                            assertTrue(first >= 0, "key not in x: " + s);
                            assertEquals(x.substring(first + n, first + n + k), answer, "answer follows the first occurrence: " + s);
                            if (x.indexOf(key, first + 1) >= 0) laterKeys++;
                            assertEquals(len + n + k + 4, ex.length());
                            assertEquals(task.maxTokens(len), ex.length());
                            assertEquals(len + n + 3, ex.answerStart());
                            assertEquals(answer, small.decode(ex.answer()));
                        }
                    }
                    if (n == 1) assertTrue(laterKeys > 0, "with 3 letters some keys must occur twice");
                    final int min = n + k;
                    assertThrows(IllegalArgumentException.class, () -> task.sample(new Rng(1), min - 1));
                }
            }
        }
    }

    @Test
    void phoneBook() {
        PhoneBookTask task = new PhoneBookTask(vocab, 10);
        Vocab v = task.vocab();
        assertEquals(43, v.size());
        assertEquals(26, v.bos());
        assertEquals(28, v.eos());
        Rng rng = new Rng(5);
        Pattern line = Pattern.compile("([a-z]{3,6} [a-z]{3,6}): ([0-9]{10})\n");
        for (int entries : new int[]{1, 2, 10, 40}) {
            for (int rep = 0; rep < 10; rep++) {
                Example ex = task.sample(rng, entries);
                String s = v.decode(ex.tokens());
                assertTrue(s.startsWith("$"));
                int bar = s.indexOf('|');
                Matcher m = line.matcher(s.substring(1, bar));
                List<String> names = new ArrayList<>(), numbers = new ArrayList<>();
                int at = 0;
                while (m.find() && m.start() == at) {
                    names.add(m.group(1));
                    numbers.add(m.group(2));
                    at = m.end();
                }
                assertEquals(bar - 1, at, "book is whole lines: " + s);
                assertEquals(entries, names.size());
                assertEquals(entries, names.stream().distinct().count(), "names are distinct");
                Matcher q = Pattern.compile("([a-z]{3,6} [a-z]{3,6}): ([0-9]{10})\\.").matcher(s.substring(bar + 1));
                assertTrue(q.matches(), s);
                int idx = names.indexOf(q.group(1));
                assertTrue(idx >= 0, "query is one of the names");
                assertEquals(numbers.get(idx), q.group(2));
                assertEquals(q.group(2), v.decode(ex.answer()));
                assertEquals(s.length() - 11, ex.answerStart());
                assertTrue(ex.length() <= task.maxTokens(entries));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> task.sample(new Rng(1), 0));
    }

    /** The loss covers exactly the answer and EOS of whole examples, for every task. */
    @Test
    void batcherMasksAnswersOfEveryTask() {
        for (Task task : all()) {
            int lo = Math.max(task.minLength(), task.name().equals("phonebook") ? 1 : 4), hi = lo + 5;
            int context = task.maxTokens(hi) + 17;
            long seed = 77, step = 3;
            Batch b = new Batcher(task, lo, hi, 3, context, seed).batch(step);
            // Replay the batcher's draws: per row, examples until the stream is full.
            Rng rng = Rng.derive(seed, step);
            int wholeExamples = 0;
            for (int r = 0; r < 3; r++) {
                int[] stream = new int[context + 1];
                boolean[] scored = new boolean[context + 1];
                int pos = 0;
                while (pos < stream.length) {
                    Example ex = task.sample(rng, rng.nextInt(lo, hi));
                    int take = Math.min(ex.length(), stream.length - pos);
                    System.arraycopy(ex.tokens(), 0, stream, pos, take);
                    if (take == ex.length()) {
                        for (int i = ex.answerStart(); i < ex.length(); i++) scored[pos + i] = true;
                        assertEquals(task.vocab().eos(), ex.tokens()[ex.length() - 1], task.name());
                        wholeExamples++;
                    }
                    pos += take;
                }
                for (int i = 0; i < context; i++) {
                    assertEquals(stream[i], b.inputs()[r * context + i], task.name() + " input " + i);
                    assertEquals(scored[i + 1] ? stream[i + 1] : Batch.MASKED, b.targets()[r * context + i],
                            task.name() + " target " + i);
                }
            }
            assertEquals(wholeExamples, b.examples(), task.name());
            assertTrue(b.examples() >= 3, task.name());
        }
    }

    /** Exact match over the answer without EOS, per-character accuracy, through the evaluator. */
    @Test
    void evaluatorScoresEveryTask() {
        for (Task task : all()) {
            int len = Math.max(task.minLength(), 6);
            // Oracle: the right answer, but a wrong EOS (EOS is not scored).
            Evaluator oracle = new Evaluator(batch -> write(batch, -1, task), task, 7, 3);
            LengthResult r = oracle.evaluate(new int[]{len}, 20, null).get(0);
            assertEquals(1.0, r.stringAccuracy(), task.name());
            assertEquals(1.0, r.charAccuracy(), task.name());
            // Every example's first answer character wrong: string accuracy 0, char accuracy (a-1)/a.
            Evaluator wrong = new Evaluator(batch -> write(batch, 0, task), task, 7, 3);
            LengthResult w = wrong.evaluate(new int[]{len}, 20, null).get(0);
            assertEquals(0.0, w.stringAccuracy(), task.name());
            List<Example> exs = wrong.examples(len, 20);
            double chars = exs.stream().mapToInt(e -> e.answer().length).sum();
            assertEquals((chars - exs.size()) / chars, w.charAccuracy(), 1e-12, task.name());
            // Prompts are what precedes answerStart, and examples are a pure function of (seed, length).
            Example e0 = exs.get(0);
            assertArrayEquals(Arrays.copyOf(e0.tokens(), e0.answerStart()), e0.prompt());
            assertEquals(exs, wrong.examples(len, 20));
        }
    }

    /** The true answer, with the character at {@code corrupt} changed (-1: the EOS instead). */
    private static int[][] write(List<Example> batch, int corrupt, Task task) {
        int[][] out = new int[batch.size()][];
        for (int b = 0; b < batch.size(); b++) {
            Example e = batch.get(b);
            int[] a = Arrays.copyOfRange(e.tokens(), e.answerStart(), e.length());
            int at = corrupt < 0 ? a.length - 1 : corrupt;
            a[at] = (a[at] + 1) % task.vocab().size();
            out[b] = a;
        }
        return out;
    }
}
