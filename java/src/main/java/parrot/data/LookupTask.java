package parrot.data;

/**
 * n-gram lookup: x of uniform letters, a key that is an n-gram of x, and as answer the k characters that follow
 * the key's <em>first</em> occurrence in x. Two layouts, both using only the copy task's tokens:
 * <ul>
 *   <li>{@code lookup-prefix}: {@code $key|x|answer.} — the key comes first, so a recurrent model can watch for it
 *       while reading x;</li>
 *   <li>{@code lookup-suffix}: {@code $x|key|answer.} — the key comes after x, so the whole of x must be kept.
 *       (The paper writes {@code $x|key answer.}; the space between key and answer is written {@code |} here, so
 *       no token is added to the copy vocabulary.)</li>
 * </ul>
 * Both are L+n+k+4 tokens with the answer starting at L+n+3. Keys are drawn uniformly among the L−n+1 n-gram
 * positions of x; a key whose first occurrence leaves fewer than k characters after it is drawn again (the
 * first position always qualifies), hence strings need at least n+k characters. Loss and scoring cover the
 * answer and EOS, exactly as copy's.
 */
public final class LookupTask implements Task {
    private final Vocab vocab;
    private final int n, k;
    private final boolean prefix;

    public LookupTask(Vocab vocab, int n, int k, boolean prefix) {
        if (n < 1) throw new IllegalArgumentException("ngram must be >= 1, got " + n);
        if (k < 1) throw new IllegalArgumentException("answer_length must be >= 1, got " + k);
        this.vocab = vocab;
        this.n = n;
        this.k = k;
        this.prefix = prefix;
    }

    @Override
    public String name() {
        return prefix ? "lookup-prefix" : "lookup-suffix";
    }

    @Override
    public Vocab vocab() {
        return vocab;
    }

    @Override
    public int minLength() {
        return n + k;
    }

    @Override
    public Example sample(Rng rng, int length) {
        if (length < n + k)
            throw new IllegalArgumentException(name() + " with ngram " + n + " and answer_length " + k
                    + " needs strings of length >= " + (n + k) + ", got " + length);
        int[] x = new int[length];
        for (int i = 0; i < length; i++) x[i] = rng.nextInt(vocab.alphabet());
        int key, first;
        do {
            key = rng.nextInt(0, length - n);
            first = firstOccurrence(x, key, n);
        } while (first + n + k > length);
        int[] t = new int[maxTokens(length)];
        int p = 0;
        t[p++] = vocab.bos();
        if (prefix) {
            System.arraycopy(x, key, t, p, n);
            p += n;
            t[p++] = vocab.sep();
            System.arraycopy(x, 0, t, p, length);
            p += length;
        } else {
            System.arraycopy(x, 0, t, p, length);
            p += length;
            t[p++] = vocab.sep();
            System.arraycopy(x, key, t, p, n);
            p += n;
        }
        t[p++] = vocab.sep();
        int answerStart = p;
        System.arraycopy(x, first + n, t, p, k);
        p += k;
        t[p] = vocab.eos();
        return new Example(t, answerStart);
    }

    /** Smallest j with x[j..j+n) == x[at..at+n); at most {@code at}. */
    static int firstOccurrence(int[] x, int at, int n) {
        outer:
        for (int j = 0; j < at; j++) {
            for (int i = 0; i < n; i++) if (x[j + i] != x[at + i]) continue outer;
            return j;
        }
        return at;
    }

    @Override
    public int maxTokens(int length) {
        return length + n + k + 4;
    }

    @Override
    public String toString() {
        return name() + "(n=" + n + ", k=" + k + ", alphabet=" + vocab.alphabet() + ")";
    }
}
