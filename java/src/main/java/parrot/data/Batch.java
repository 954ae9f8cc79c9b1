package parrot.data;

import java.util.Arrays;

/**
 * Training rows, row-major [batchSize × context]. targets[i] is the token to predict at input position i, or
 * {@link #MASKED} where the loss ignores it. Arrays are owned, not copied (they go straight to the device).
 * {@code examples} counts the whole examples in the rows, i.e. those whose answers are scored (the cut one at
 * the end of a row is not); it is what "training examples seen" adds up.
 */
public record Batch(int batchSize, int context, int[] inputs, int[] targets, int examples) {
    public static final int MASKED = -1;

    /** A batch whose example count is not known (hand-made in tests). */
    public Batch(int batchSize, int context, int[] inputs, int[] targets) {
        this(batchSize, context, inputs, targets, 0);
    }

    public Batch {
        int n = batchSize * context;
        if (batchSize < 1 || context < 1 || inputs.length != n || targets.length != n)
            throw new IllegalArgumentException("batch " + batchSize + "x" + context + " needs " + n
                    + " inputs and targets, got " + inputs.length + " and " + targets.length);
    }

    /** Positions that carry loss; the mean loss divides by this. */
    public int countTargets() {
        int n = 0;
        for (int t : targets) if (t != MASKED) n++;
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Batch b && b.batchSize == batchSize && b.context == context && b.examples == examples
                && Arrays.equals(b.inputs, inputs) && Arrays.equals(b.targets, targets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputs) * 31 + Arrays.hashCode(targets);
    }

    @Override
    public String toString() {
        return "Batch(" + batchSize + "x" + context + ", " + countTargets() + " targets)";
    }
}
