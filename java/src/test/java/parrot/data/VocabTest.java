package parrot.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class VocabTest {
    @Test
    void paperIds() {
        Vocab v = new Vocab(26);
        assertEquals(26, v.bos());
        assertEquals(27, v.sep());
        assertEquals(28, v.eos());
        assertEquals(29, v.pad());
        assertEquals(30, v.size());
        assertEquals(26, v.alphabet());
    }

    @Test
    void smallAlphabetShiftsSpecials() {
        Vocab v = new Vocab(4);
        assertEquals(8, v.size());
        assertEquals("abcd$|.*", v.decode(new int[]{0, 1, 2, 3, 4, 5, 6, 7}));
        assertEquals("c$", v.decode(new int[]{0, 1, 2, 4, 7}, 2, 4));
    }

    @Test
    void encodeRoundTrips() {
        Vocab v = new Vocab(26);
        String s = "$hello|hello.**";
        assertEquals(s, v.decode(v.encode(s)));
        assertArrayEquals(new int[]{26, 0, 25, 27, 28, 29}, v.encode("$az|.*"));
    }

    @Test
    void badCharacterIsNamed() {
        Vocab v = new Vocab(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.encode("ab$e"));
        assertTrue(e.getMessage().contains("'e'"), e.getMessage());
        assertTrue(e.getMessage().contains("position 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> v.decode(new int[]{8}));
        assertThrows(IllegalArgumentException.class, () -> v.decode(new int[]{-1}));
    }

    @Test
    void alphabetBounds() {
        assertThrows(IllegalArgumentException.class, () -> new Vocab(1));
        assertThrows(IllegalArgumentException.class, () -> new Vocab(27));
        assertEquals(6, new Vocab(2).size());
    }

    @Test
    void extrasComeAfterPadAndKeepCopyIds() {
        Vocab v = new Vocab(26, Vocab.PHONEBOOK_EXTRAS);
        assertEquals(26, v.bos());
        assertEquals(27, v.sep());
        assertEquals(28, v.eos());
        assertEquals(29, v.pad());
        assertEquals(0, v.id('a'));
        assertEquals(43, v.size());
        assertEquals(30, v.id('0'));
        assertEquals(39, v.id('9'));
        assertEquals(40, v.id(' '));
        assertEquals(41, v.id(':'));
        assertEquals(42, v.id('\n'));
        String s = "$ab cd: 0123456789\n|ab cd: 0123456789.";
        assertEquals(s, v.decode(v.encode(s)));
        assertEquals(v, new Vocab(26).withExtras(Vocab.PHONEBOOK_EXTRAS));
        assertNotEquals(v, new Vocab(26));
        assertSame(v, v.withExtras("0:"));
        assertThrows(IllegalArgumentException.class, () -> new Vocab(26).encode("1"));
        assertThrows(IllegalArgumentException.class, () -> new Vocab(4, "a"));
        assertThrows(IllegalArgumentException.class, () -> new Vocab(4, "$"));
        assertThrows(IllegalArgumentException.class, () -> new Vocab(4, "00"));
        assertThrows(IllegalArgumentException.class, () -> v.decode(new int[]{43}));
    }
}
