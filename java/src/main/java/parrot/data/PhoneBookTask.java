package parrot.data;

import java.util.HashSet;
import java.util.Set;

/**
 * A character-level phone book. The "length" of an example is its number of entries L. Each entry is a line
 * {@code first last: 0123456789} (names of 3..6 random letters each, distinct full names, a number of
 * {@code digits} random digits); then {@code |}, a query — one of the L names, uniformly — and {@code ": "}; the
 * answer is that entry's number and EOS:
 * <pre>$kel mupoa: 2718281828\nzab qirt: 3141592653\n|zab qirt: 3141592653.</pre>
 * The vocabulary is copy's plus {@link Vocab#PHONEBOOK_EXTRAS} (digits, space, ':' and newline) after PAD, so
 * letters and specials keep their ids. Loss and scoring cover the number and EOS.
 */
public final class PhoneBookTask implements Task {
    public static final int MIN_NAME = 3, MAX_NAME = 6;
    /** Longest entry line: first, space, last, ':', space, digits, newline. */
    private final int maxLine;
    private final Vocab vocab;
    private final int digits;
    private final int space, colon, newline, zero;

    public PhoneBookTask(Vocab base, int digits) {
        if (digits < 1) throw new IllegalArgumentException("digits must be >= 1, got " + digits);
        this.vocab = base.withExtras(Vocab.PHONEBOOK_EXTRAS);
        this.digits = digits;
        this.maxLine = 2 * MAX_NAME + 3 + digits + 1;
        space = vocab.id(' ');
        colon = vocab.id(':');
        newline = vocab.id('\n');
        zero = vocab.id('0');
    }

    @Override
    public String name() {
        return "phonebook";
    }

    @Override
    public Vocab vocab() {
        return vocab;
    }

    @Override
    public int minLength() {
        return 1;
    }

    @Override
    public Example sample(Rng rng, int entries) {
        if (entries < 1) throw new IllegalArgumentException("phonebook needs at least 1 entry, got " + entries);
        int[][] names = new int[entries][];
        int[][] numbers = new int[entries][digits];
        Set<String> seen = new HashSet<>();
        for (int e = 0; e < entries; e++) {
            do names[e] = name(rng); while (!seen.add(java.util.Arrays.toString(names[e])));
            for (int i = 0; i < digits; i++) numbers[e][i] = zero + rng.nextInt(10);
        }
        int q = rng.nextInt(entries);
        int len = 1;
        for (int e = 0; e < entries; e++) len += names[e].length + 3 + digits;
        len += 1 + names[q].length + 2 + digits + 1;
        int[] t = new int[len];
        int p = 0;
        t[p++] = vocab.bos();
        for (int e = 0; e < entries; e++) {
            p = put(t, p, names[e]);
            t[p++] = colon;
            t[p++] = space;
            p = put(t, p, numbers[e]);
            t[p++] = newline;
        }
        t[p++] = vocab.sep();
        p = put(t, p, names[q]);
        t[p++] = colon;
        t[p++] = space;
        int answerStart = p;
        p = put(t, p, numbers[q]);
        t[p] = vocab.eos();
        return new Example(t, answerStart);
    }

    /** "first last" as tokens. */
    private int[] name(Rng rng) {
        int a = rng.nextInt(MIN_NAME, MAX_NAME), b = rng.nextInt(MIN_NAME, MAX_NAME);
        int[] n = new int[a + 1 + b];
        for (int i = 0; i < n.length; i++) n[i] = i == a ? space : rng.nextInt(vocab.alphabet());
        return n;
    }

    private static int put(int[] t, int p, int[] src) {
        System.arraycopy(src, 0, t, p, src.length);
        return p + src.length;
    }

    /** An upper bound: every name at its longest. */
    @Override
    public int maxTokens(int entries) {
        return 1 + entries * maxLine + 1 + (2 * MAX_NAME + 1) + 2 + digits + 1;
    }

    @Override
    public String toString() {
        return "phonebook(digits=" + digits + ", alphabet=" + vocab.alphabet() + ")";
    }
}
