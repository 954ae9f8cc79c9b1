package parrot.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class IntRangeTest {
    @Test
    void parsesTheThreeForms() {
        assertEquals(new IntRange(5, 5, 1), IntRange.parse("5"));
        assertEquals(new IntRange(1, 20, 1), IntRange.parse("1..20"));
        assertEquals(new IntRange(1, 100, 5), IntRange.parse(" 1..100:5 "));
        assertEquals(new IntRange(-3, 5), IntRange.parse("-3..5")); // representable; records reject it
    }

    @Test
    void printsWhatItParses() {
        for (String s : new String[]{"5", "1..20", "1..100:5", "5..2"}) assertEquals(s, IntRange.parse(s).toString());
    }

    @Test
    void valuesAlwaysIncludeHi() {
        assertArrayEquals(new int[]{7}, IntRange.parse("7").values());
        assertArrayEquals(new int[]{1, 2, 3}, IntRange.parse("1..3").values());
        assertArrayEquals(new int[]{0, 5, 10}, IntRange.parse("0..10:5").values());
        assertArrayEquals(new int[]{1, 5, 9, 10}, IntRange.parse("1..10:4").values());
        assertArrayEquals(new int[0], IntRange.parse("5..2").values());
        assertTrue(IntRange.parse("1..10:4").contains(10));
        assertFalse(IntRange.parse("1..10:4").contains(2));
    }

    @Test
    void rejectsMalformedText() {
        for (String s : new String[]{"", "a", "1..", "..3", "1-3", "1..3:", "1..3:0", "99999999999"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> IntRange.parse(s), s);
            assertFalse(e.getMessage().contains("\n"));
        }
    }
}
