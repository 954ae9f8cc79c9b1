package parrot.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Inclusive integer range, written as in configs and on the command line: "5", "1..20", or "1..100:5" (every
 * 5th). Inverted or negative ranges are representable; the records using one reject them with their field name.
 */
public record IntRange(int lo, int hi, int step) {
    private static final Pattern FORM = Pattern.compile("(-?\\d+)(?:\\.\\.(-?\\d+)(?::(-?\\d+))?)?");
    private static final String SHAPE = "a range like 5, 1..20 or 1..100:5";

    public IntRange {
        if (step < 1) throw new ConfigException("step must be >= 1, got " + step);
    }

    public IntRange(int lo, int hi) {
        this(lo, hi, 1);
    }

    public static IntRange of(int value) {
        return new IntRange(value, value, 1);
    }

    public static IntRange parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip());
        if (!m.matches()) throw new ConfigException("expected " + SHAPE + ", got '" + text + "'");
        try {
            int lo = Integer.parseInt(m.group(1));
            int hi = m.group(2) == null ? lo : Integer.parseInt(m.group(2));
            int step = m.group(3) == null ? 1 : Integer.parseInt(m.group(3));
            return new IntRange(lo, hi, step);
        } catch (NumberFormatException e) {
            throw new ConfigException("number too large in '" + text + "'");
        }
    }

    /** Accepts the string forms and, for convenience, a bare JSON integer. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static IntRange fromJson(JsonNode node) {
        if (node.isTextual()) return parse(node.textValue());
        if (node.isInt()) return of(node.intValue());
        throw new ConfigException("expected " + SHAPE + ", got " + node);
    }

    /**
     * lo, lo+step, ... and always hi: the longest length is the one that matters most (the reference code's
     * Python range dropped it). Empty when inverted.
     */
    public int[] values() {
        if (hi < lo) return new int[0];
        long count = ((long) hi - lo) / step + 1;
        boolean hiOnGrid = ((long) hi - lo) % step == 0;
        int[] v = new int[(int) count + (hiOnGrid ? 0 : 1)];
        for (int i = 0; i < count; i++) v[i] = lo + i * step;
        if (!hiOnGrid) v[v.length - 1] = hi;
        return v;
    }

    public boolean contains(int x) {
        return Arrays.stream(values()).anyMatch(v -> v == x);
    }

    /**
     * The longest string length parrot accepts anywhere: an example of a million letters is two million tokens,
     * far past any context it trains or decodes, and token counts of longer ones would overflow an int.
     */
    public static final int MAX_LENGTH = 1_000_000;

    /**
     * Rejects inverted ranges, ranges reaching below {@code min} and lengths over {@link #MAX_LENGTH}, naming
     * {@code field}; the same check for configs and the command line.
     */
    public IntRange check(String field, int min) {
        if (lo > hi) throw new ConfigException(field, "inverted range " + this + " (lo must be <= hi)");
        if (lo < min) throw new ConfigException(field, "must be >= " + min + ", got " + this);
        if (hi > MAX_LENGTH) throw new ConfigException(field, "lengths up to " + MAX_LENGTH + " are allowed, got " + this);
        return this;
    }

    @JsonValue
    @Override
    public String toString() {
        if (step != 1) return lo + ".." + hi + ":" + step;
        return lo == hi ? Integer.toString(lo) : lo + ".." + hi;
    }
}
