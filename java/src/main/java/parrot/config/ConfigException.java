package parrot.config;

/**
 * A bad config, in one line that names the field: {@code train.steps: must be >= 1, got -5}. Records raise it
 * with their own field names; the loader prefixes where the record sits ({@code models[0].}).
 */
public class ConfigException extends RuntimeException {
    private final String field;
    private final String problem;

    public ConfigException(String field, String problem) {
        super(field == null || field.isEmpty() ? problem : field + ": " + problem);
        this.field = field == null || field.isEmpty() ? null : field;
        this.problem = problem;
    }

    /** A problem with no single field (bad override syntax, unreadable file) or whose text names it already. */
    public ConfigException(String message) {
        this(null, message);
    }

    /** Field path relative to whoever raised it, or null. */
    public String field() {
        return field;
    }

    public String problem() {
        return problem;
    }

    /** The same problem seen from {@code prefix}, the path of the record that raised it. */
    public ConfigException under(String prefix) {
        if (prefix == null || prefix.isEmpty()) return this;
        ConfigException e = new ConfigException(join(prefix, field), problem);
        e.initCause(this);
        return e;
    }

    static String join(String prefix, String field) {
        if (prefix == null || prefix.isEmpty()) return field;
        if (field == null || field.isEmpty()) return prefix;
        return field.startsWith("[") ? prefix + field : prefix + "." + field;
    }
}
