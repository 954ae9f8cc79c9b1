package parrot.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CopyTaskTest {
    private final Vocab vocab = new Vocab(26);
    private final CopyTask task = new CopyTask(vocab);

    @Test
    void formatIsDollarXBarXDot() {
        Rng rng = new Rng(3);
        for (int len : new int[]{0, 1, 5, 40}) {
            Example ex = task.sample(rng, len);
            String s = vocab.decode(ex.tokens());
            assertTrue(s.matches("\\$[a-z]{" + len + "}\\|[a-z]{" + len + "}\\."), s);
            String x = s.substring(1, 1 + len);
            assertEquals("$" + x + "|" + x + ".", s);
            assertEquals(2 * len + 3, ex.length());
            assertEquals(task.maxTokens(len), ex.length());
            assertEquals(len + 2, ex.answerStart());
            assertEquals("$" + x + "|", vocab.decode(ex.prompt()));
            assertEquals(x, vocab.decode(ex.answer()));
        }
    }

    @Test
    void lettersStayInTheAlphabetAndAllAppear() {
        Vocab small = new Vocab(3);
        Example ex = new CopyTask(small).sample(new Rng(1), 300);
        boolean[] seen = new boolean[3];
        for (int t : ex.answer()) {
            assertTrue(small.isLetter(t));
            seen[t] = true;
        }
        assertTrue(seen[0] && seen[1] && seen[2]);
    }

    @Test
    void createByName() {
        assertEquals("copy", Task.create("copy", vocab).name());
        assertThrows(IllegalArgumentException.class, () -> Task.create("nope", vocab));
    }
}
