package parrot.data;

import java.util.Arrays;

/**
 * One task instance as tokens. The answer is tokens[answerStart..] and ends with EOS; loss and scoring look at
 * the answer only. The array is owned by the record, not copied: batchers make millions of these.
 */
public record Example(int[] tokens, int answerStart) {
    public Example {
        if (answerStart < 0 || answerStart >= tokens.length)
            throw new IllegalArgumentException("answerStart " + answerStart + " outside 0.." + (tokens.length - 1)
                    + ": the answer holds at least its EOS");
    }

    public int[] prompt() {
        return Arrays.copyOfRange(tokens, 0, answerStart);
    }

    /** The answer without its EOS: what exact-match accuracy compares. */
    public int[] answer() {
        return Arrays.copyOfRange(tokens, answerStart, tokens.length - 1);
    }

    public int length() {
        return tokens.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && e.answerStart == answerStart && Arrays.equals(e.tokens, tokens);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(tokens) + answerStart;
    }

    @Override
    public String toString() {
        return "Example(tokens=" + Arrays.toString(tokens) + ", answerStart=" + answerStart + ")";
    }
}
