package parrot.data;

/**
 * Copy with a duplicated n-gram, the paper's probe of n-gram hashing: {@code $x|x.} as in copy, but one n-gram
 * of x is overwritten by another n-gram of x, so that x holds the same n tokens twice and a model that copies
 * by looking up "the token after the previous occurrence of my last n tokens" meets an ambiguity. Source and
 * destination are drawn uniformly among the pairs of non-overlapping n-gram positions (|s − d| ≥ n), hence
 * strings need at least 2n characters. Masking and scoring are exactly copy's.
 */
public final class DupNgramCopyTask implements Task {
    private final Vocab vocab;
    private final int n;

    public DupNgramCopyTask(Vocab vocab, int n) {
        if (n < 1) throw new IllegalArgumentException("ngram must be >= 1, got " + n);
        this.vocab = vocab;
        this.n = n;
    }

    @Override
    public String name() {
        return "copy-dup-ngram";
    }

    @Override
    public Vocab vocab() {
        return vocab;
    }

    public int ngram() {
        return n;
    }

    @Override
    public int minLength() {
        return 2 * n;
    }

    @Override
    public Example sample(Rng rng, int length) {
        if (length < 2 * n)
            throw new IllegalArgumentException("copy-dup-ngram with ngram " + n + " needs strings of length >= " + 2 * n
                    + ", got " + length);
        int[] t = new int[maxTokens(length)];
        t[0] = vocab.bos();
        for (int i = 0; i < length; i++) t[1 + i] = rng.nextInt(vocab.alphabet());
        int s, d;
        do { // joint rejection: for length 2n only (0, n) and (n, 0) qualify
            s = rng.nextInt(0, length - n);
            d = rng.nextInt(0, length - n);
        } while (Math.abs(s - d) < n);
        System.arraycopy(t, 1 + s, t, 1 + d, n);
        t[length + 1] = vocab.sep();
        System.arraycopy(t, 1, t, length + 2, length);
        t[2 * length + 2] = vocab.eos();
        return new Example(t, length + 2);
    }

    @Override
    public int maxTokens(int length) {
        return 2 * length + 3;
    }

    @Override
    public String toString() {
        return "copy-dup-ngram(n=" + n + ", alphabet=" + vocab.alphabet() + ")";
    }
}
