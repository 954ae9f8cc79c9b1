package parrot.data;

import java.util.Arrays;

/**
 * Packs back-to-back examples into fixed rows, as the paper's training does. {@link #batch(long)} depends only on
 * (seed, step), so a run resumed from a checkpoint sees exactly the batches it would have seen.
 */
public final class Batcher {
    private final Task task;
    private final int minLength;
    private final int maxLength;
    private final int batchSize;
    private final int context;
    private final long seed;

    public Batcher(Task task, int minLength, int maxLength, int batchSize, int context, long seed) {
        if (minLength < 0 || maxLength < minLength)
            throw new IllegalArgumentException("lengths must satisfy 0 <= min <= max, got " + minLength + ".." + maxLength);
        if (batchSize < 1 || context < 1)
            throw new IllegalArgumentException("batch size and context must be >= 1, got " + batchSize + " and " + context);
        if (minLength < task.minLength())
            throw new IllegalArgumentException(task + " needs lengths >= " + task.minLength() + ", got " + minLength + ".." + maxLength);
        int longest = task.maxTokens(maxLength);
        // A row is context+1 tokens (inputs plus the last target); an example that never fits is never trained on.
        if (longest > context + 1)
            throw new IllegalArgumentException("context " + context + " is too short for " + task.name()
                    + " examples of length " + maxLength + " (" + longest + " tokens need context >= " + (longest - 1) + ")");
        this.task = task;
        this.minLength = minLength;
        this.maxLength = maxLength;
        this.batchSize = batchSize;
        this.context = context;
        this.seed = seed;
    }

    public Task task() {
        return task;
    }

    public int batchSize() {
        return batchSize;
    }

    public int context() {
        return context;
    }

    public Batch batch(long step) {
        Rng rng = Rng.derive(seed, step);
        int[] inputs = new int[batchSize * context];
        int[] targets = new int[batchSize * context];
        int[] stream = new int[context + 1];
        boolean[] scored = new boolean[context + 1];
        int examples = 0;
        for (int r = 0; r < batchSize; r++) {
            examples += fillRow(rng, stream, scored);
            int base = r * context;
            System.arraycopy(stream, 0, inputs, base, context);
            for (int i = 0; i < context; i++) targets[base + i] = scored[i + 1] ? stream[i + 1] : Batch.MASKED;
        }
        return new Batch(batchSize, context, inputs, targets, examples);
    }

    /**
     * Fills the stream with whole examples and then a truncated one. Only answers of whole examples are scored:
     * a cut answer would teach the model to stop mid-copy. The truncated tail stays as real tokens (not PAD) so
     * rows look like the middle of a stream, as in the reference code. Returns the number of whole examples.
     */
    private int fillRow(Rng rng, int[] stream, boolean[] scored) {
        Arrays.fill(scored, false);
        int pos = 0, whole = 0;
        while (pos < stream.length) {
            Example ex = task.sample(rng, rng.nextInt(minLength, maxLength));
            int[] t = ex.tokens();
            int take = Math.min(t.length, stream.length - pos);
            System.arraycopy(t, 0, stream, pos, take);
            if (take == t.length) {
                Arrays.fill(scored, pos + ex.answerStart(), pos + t.length, true);
                whole++;
            }
            pos += take;
        }
        return whole;
    }
}
