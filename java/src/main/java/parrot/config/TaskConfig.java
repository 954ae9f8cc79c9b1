package parrot.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * Which synthetic task to train on and the string lengths drawn (uniformly, inclusive).
 *
 * @param type     task name, one of {@link #TYPES}
 * @param alphabet letters a.. used, 2..26
 * @param lengths  training string lengths lo..hi, no step
 */
public record TaskConfig(String type, int alphabet, IntRange lengths) {
    /**
     * Tokens of one example by string length, per task type; the keys are the allowed types. Config knows this
     * without depending on parrot.data so that it can check contexts; a test keeps the two in agreement.
     */
    private static final Map<String, IntUnaryOperator> TOKENS = new LinkedHashMap<>();

    static {
        TOKENS.put("copy", n -> 2 * n + 3); // $x|x.
    }

    public static final List<String> TYPES = List.copyOf(TOKENS.keySet());

    public TaskConfig {
        Check.oneOf("type", type, TYPES);
        Check.between("alphabet", alphabet, 2, 26);
        Check.required("lengths", lengths).check("lengths", 1);
        if (lengths.step() != 1)
            throw new ConfigException("lengths", "training lengths are drawn from all of lo..hi; a step is not allowed, got " + lengths);
    }

    public static TaskConfig defaults() {
        return new TaskConfig("copy", 26, new IntRange(1, 20));
    }

    /** Token count of an example whose string has {@code length} characters. */
    public int maxTokens(int length) {
        return TOKENS.get(type).applyAsInt(length);
    }

    /** Token count of the longest training example. */
    public int maxTokens() {
        return maxTokens(lengths.hi());
    }
}
