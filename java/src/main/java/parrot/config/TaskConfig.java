package parrot.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntBiFunction;

/**
 * Which synthetic task to train on and the lengths drawn (uniformly, inclusive). The "length" is the string
 * length x for copy and lookup, and the number of entries L for the phone book.
 *
 * @param type         task name, one of {@link #TYPES}
 * @param alphabet     letters a.. used, 2..26
 * @param lengths      training lengths lo..hi, no step
 * @param ngram        copy-dup-ngram: n of the duplicated n-gram; lookup-*: n of the key (ignored by the others)
 * @param answerLength lookup-*: k, the characters after the key's first occurrence that form the answer
 * @param digits       phonebook: digits of a phone number
 */
public record TaskConfig(String type, int alphabet, IntRange lengths, int ngram, int answerLength, int digits) {
    /**
     * Tokens of one example by length (an upper bound where names vary), per task type; the keys are the allowed
     * types. Config knows this without depending on parrot.data so that it can check contexts; a test keeps the
     * two in agreement.
     */
    private static final Map<String, ToIntBiFunction<TaskConfig, Integer>> TOKENS = new LinkedHashMap<>();
    /** Phone book names: 3..6 letters each (parrot.data.PhoneBookTask). */
    private static final int MAX_NAME = 6;
    /** Tokens the phone book adds after PAD: digits, space, ':' and newline. */
    public static final int PHONEBOOK_EXTRA_TOKENS = 13;

    static {
        TOKENS.put("copy", (t, n) -> 2 * n + 3);                        // $x|x.
        TOKENS.put("copy-dup-ngram", (t, n) -> 2 * n + 3);              // $x|x. with a repeated n-gram in x
        TOKENS.put("lookup-prefix", (t, n) -> n + t.ngram + t.answerLength + 4); // $key|x|answer.
        TOKENS.put("lookup-suffix", (t, n) -> n + t.ngram + t.answerLength + 4); // $x|key|answer.
        TOKENS.put("phonebook", (t, n) -> 1 + n * (2 * MAX_NAME + 4 + t.digits) + 1 + 2 * MAX_NAME + 3 + t.digits + 1);
    }

    public static final List<String> TYPES = List.copyOf(TOKENS.keySet());

    public TaskConfig {
        Check.oneOf("type", type, TYPES);
        Check.between("alphabet", alphabet, 2, 26);
        Check.required("lengths", lengths).check("lengths", 1);
        if (lengths.step() != 1)
            throw new ConfigException("lengths", "training lengths are drawn from all of lo..hi; a step is not allowed, got " + lengths);
        Check.between("ngram", ngram, 1, 1000);
        Check.between("answer_length", answerLength, 1, 1000);
        Check.between("digits", digits, 1, 100);
    }

    /** The three-field form of the first configs; the parameters take their defaults. */
    public TaskConfig(String type, int alphabet, IntRange lengths) {
        this(type, alphabet, lengths, 3, 3, 10);
    }

    public static TaskConfig defaults() {
        return new TaskConfig("copy", 26, new IntRange(1, 20));
    }

    /** Token count of an example whose string has {@code length} characters. */
    public int maxTokens(int length) {
        return TOKENS.get(type).applyAsInt(this, length);
    }

    /** Token count of the longest training example. */
    public int maxTokens() {
        return maxTokens(lengths.hi());
    }

    /** The shortest length the task can draw: 2n for a duplicated n-gram, n+k for lookup, else 1. */
    public int minLength() {
        return switch (type) {
            case "copy-dup-ngram" -> 2 * ngram;
            case "lookup-prefix", "lookup-suffix" -> ngram + answerLength;
            default -> 1;
        };
    }

    /** Why {@link #minLength()} is what it is, for error messages. */
    String minLengthReason() {
        return switch (type) {
            case "copy-dup-ngram" -> type + " with ngram " + ngram + " needs length >= 2·ngram = " + minLength();
            case "lookup-prefix", "lookup-suffix" -> type + " with ngram " + ngram + " and answer_length " + answerLength
                    + " needs length >= ngram + answer_length = " + minLength();
            default -> type + " needs length >= 1";
        };
    }

    /** Tokens in the vocabulary: letters, the four specials, and the phone book's extras. */
    public int vocabSize() {
        return alphabet + 4 + (type.equals("phonebook") ? PHONEBOOK_EXTRA_TOKENS : 0);
    }

    public TaskConfig withType(String newType) {
        return new TaskConfig(newType, alphabet, lengths, ngram, answerLength, digits);
    }
}
