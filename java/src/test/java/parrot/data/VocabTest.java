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
}
