package parrot.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BatcherTest {
    private final Vocab vocab = new Vocab(26);
    private final CopyTask copy = new CopyTask(vocab);

    /** Fixed length 3: examples are 9 tokens, so the layout of every row is known. */
    @Test
    void masksExactlyAnswersAndEosOfWholeExamples() {
        int context = 24; // 25 stream tokens: two whole examples (18) + 7 of a third, cut inside its answer
        Batch b = new Batcher(copy, 3, 3, 4, context, 11).batch(0);
        for (int r = 0; r < b.batchSize(); r++) {
            int base = r * context;
            String row = vocab.decode(b.inputs(), base, base + context);
            assertTrue(row.matches("(\\$([a-z]{3})\\|\\2\\.){2}\\$[a-z]{3}\\|[a-z]"), row);
            for (int i = 0; i < context; i++) {
                int pos = i + 1, inExample = pos % 9;
                boolean whole = pos < 18;
                boolean answer = inExample >= 5; // answerStart = L+2 = 5; positions 5..8 are x and EOS
                int t = b.targets()[base + i];
                if (whole && answer) {
                    assertEquals(b.inputs()[base + pos], t, "target " + i + " must be the next token");
                    if (inExample == 8) assertEquals(vocab.eos(), t);
                } else {
                    assertEquals(Batch.MASKED, t, "target " + i + " of row " + row);
                }
            }
        }
        assertEquals(4 * 2 * 4, b.countTargets());
    }

    @Test
    void truncatedExampleIsMaskedEvenWhenItsAnswerStarted() {
        // 20 stream tokens: two whole 9-token examples, then "$x" of the third.
        Batch b = new Batcher(copy, 3, 3, 1, 19, 2).batch(5);
        assertEquals(Batch.MASKED, b.targets()[17]);
        assertEquals(Batch.MASKED, b.targets()[18]);
        assertEquals(vocab.eos(), b.targets()[16]);
        // 25 stream tokens: the third example is cut after 2 answer letters; they must not be scored.
        Batch c = new Batcher(copy, 3, 3, 1, 24, 2).batch(5);
        assertEquals(vocab.sep(), c.inputs()[22]);
        for (int i = 17; i < 24; i++) assertEquals(Batch.MASKED, c.targets()[i], "target " + i);
        assertEquals(8, c.countTargets());
    }

    @Test
    void exampleEndingExactlyAtTheRowEndIsScored() {
        // 18 stream tokens = two whole examples; the last EOS is only visible as the final target.
        Batch b = new Batcher(copy, 3, 3, 1, 17, 4).batch(0);
        assertEquals(vocab.eos(), b.targets()[16]);
        assertEquals(8, b.countTargets());
    }

    /** Variable lengths: re-derive the expected mask by parsing each row. */
    @Test
    void variableLengthRowsParseBackToCopies() {
        int context = 64;
        Batch b = new Batcher(copy, 1, 20, 16, context, 99).batch(3);
        for (int r = 0; r < 16; r++) {
            int base = r * context;
            int[] stream = new int[context + 1];
            System.arraycopy(b.inputs(), base, stream, 0, context);
            stream[context] = -2; // unseen unless scored
            boolean[] scored = new boolean[context + 1];
            int pos = 0;
            while (pos < context) {
                assertEquals(vocab.bos(), stream[pos], "row " + r + " example at " + pos);
                int sep = pos + 1;
                while (sep < context && stream[sep] != vocab.sep()) sep++;
                int len = sep - pos - 1, n = 2 * len + 3;
                if (sep < context && pos + n <= context + 1) {
                    for (int k = pos + len + 2; k < pos + n; k++) scored[k] = true;
                    for (int k = 0; k < len; k++)
                        if (pos + len + 2 + k < context) assertEquals(stream[pos + 1 + k], stream[pos + len + 2 + k]);
                }
                pos += n;
            }
            for (int i = 0; i < context; i++) {
                int t = b.targets()[base + i];
                if (scored[i + 1]) {
                    if (i + 1 < context) assertEquals(stream[i + 1], t);
                    else assertEquals(vocab.eos(), t);
                } else {
                    assertEquals(Batch.MASKED, t, "row " + r + " target " + i);
                }
            }
        }
    }

    @Test
    void batchIsAPureFunctionOfSeedAndStep() {
        Batcher a = new Batcher(copy, 1, 10, 8, 40, 7);
        Batcher same = new Batcher(copy, 1, 10, 8, 40, 7);
        assertEquals(a.batch(12), same.batch(12));
        assertEquals(a.batch(12), a.batch(12));
        assertNotEquals(a.batch(12), a.batch(13));
        assertNotEquals(a.batch(12), new Batcher(copy, 1, 10, 8, 40, 8).batch(12));
    }

    @Test
    void lengthsCoverTheInclusiveRange() {
        List<Integer> lengths = new ArrayList<>();
        Task recording = new Task() {
            public String name() { return "recording"; }
            public Vocab vocab() { return vocab; }
            public int maxTokens(int length) { return copy.maxTokens(length); }
            public Example sample(Rng rng, int length) {
                lengths.add(length);
                return copy.sample(rng, length);
            }
        };
        Batcher batcher = new Batcher(recording, 2, 6, 8, 40, 1);
        for (int step = 0; step < 5; step++) batcher.batch(step);
        assertTrue(lengths.stream().allMatch(l -> l >= 2 && l <= 6), lengths.toString());
        for (int l = 2; l <= 6; l++) assertTrue(lengths.contains(l), "length " + l + " never drawn");
    }

    @Test
    void rejectsContextTooShortForTheLongestExample() {
        assertDoesNotThrow(() -> new Batcher(copy, 1, 20, 1, 42, 0)); // 43 tokens = context + 1
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Batcher(copy, 1, 20, 1, 41, 0));
        assertTrue(e.getMessage().contains("42"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Batcher(copy, 5, 4, 1, 64, 0));
    }

    @Test
    void batchValidatesShapes() {
        assertThrows(IllegalArgumentException.class, () -> new Batch(2, 3, new int[6], new int[5]));
    }
}
