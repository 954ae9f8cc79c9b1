package parrot.data;

import java.util.Arrays;

/**
 * Training rows, row-major [batchSize × context]. targets[i] is the token to predict at input position i, or
 * {@link #MASKED} where the loss ignores it. Arrays are owned, not copied (they go straight to the device).
 */
public record Batch(int batchSize, int context, int[] inputs, int[] targets) {
    public static final int MASKED = -1;

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
        return o instanceof Batch b && b.batchSize == batchSize && b.context == context
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
