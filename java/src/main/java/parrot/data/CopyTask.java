package parrot.data;

/** Copy: {@code $x|x.} with x of uniform independent letters; the answer is the second x and EOS. */
public final class CopyTask implements Task {
    private final Vocab vocab;

    public CopyTask(Vocab vocab) {
        this.vocab = vocab;
    }

    @Override
    public String name() {
        return "copy";
    }

    @Override
    public Vocab vocab() {
        return vocab;
    }

    @Override
    public Example sample(Rng rng, int length) {
        if (length < 0) throw new IllegalArgumentException("length must be >= 0, got " + length);
        int[] t = new int[maxTokens(length)];
        t[0] = vocab.bos();
        for (int i = 0; i < length; i++) t[1 + i] = rng.nextInt(vocab.alphabet());
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
        return "copy(alphabet=" + vocab.alphabet() + ")";
    }
}
