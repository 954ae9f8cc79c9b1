package parrot.config;

import java.util.List;
import java.util.regex.Pattern;

/** The validations records share, so that every message reads the same way. */
final class Check {
    /** Names become file names and override path segments ({@code models.<name>.d_model}), hence no dots. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

    private Check() {
    }

    static void atLeast(String field, long value, long min) {
        if (value < min) throw new ConfigException(field, "must be >= " + min + ", got " + value);
    }

    static void between(String field, long value, long lo, long hi) {
        if (value < lo || value > hi) throw new ConfigException(field, "must be in " + lo + ".." + hi + ", got " + value);
    }

    static void positive(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) throw new ConfigException(field, "must be > 0, got " + value);
    }

    static void nonNegative(String field, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) throw new ConfigException(field, "must be >= 0, got " + value);
    }

    /** value in [lo, hi) when hiOpen, else [lo, hi]. */
    static void inInterval(String field, double value, double lo, double hi, boolean loOpen, boolean hiOpen) {
        boolean ok = (loOpen ? value > lo : value >= lo) && (hiOpen ? value < hi : value <= hi);
        if (!ok) throw new ConfigException(field, "must be in " + (loOpen ? "(" : "[") + lo + ", " + hi
                + (hiOpen ? ")" : "]") + ", got " + value);
    }

    static void oneOf(String field, String value, List<String> allowed) {
        if (value == null) throw new ConfigException(field, "required; allowed: " + String.join(", ", allowed));
        if (!allowed.contains(value))
            throw new ConfigException(field, "unknown value '" + value + "'; allowed: " + String.join(", ", allowed));
    }

    static <T> T required(String field, T value) {
        if (value == null) throw new ConfigException(field, "required");
        return value;
    }

    static void name(String field, String value) {
        required(field, value);
        if (value.length() > 100) // becomes a file name (255 bytes at most) inside runs/<experiment>/<model>/seed-N
            throw new ConfigException(field, "must be at most 100 characters, got " + value.length());
        if (!NAME.matcher(value).matches())
            throw new ConfigException(field, "must be letters, digits, '_' or '-' (not starting with '_' or '-'), got '" + value + "'");
    }
}
