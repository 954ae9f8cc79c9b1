package parrot.data;

/**
 * One character a token: letters a.. are ids 0..alphabet-1, then the four specials, as in the paper
 * (alphabet 26 gives BOS 26, SEP 27, EOS 28, PAD 29, vocabulary 30).
 */
public final class Vocab {
    public static final char BOS = '$';
    public static final char SEP = '|';
    public static final char EOS = '.';
    public static final char PAD = '*';
    public static final int MAX_ALPHABET = 26;

    private final int alphabet;

    public Vocab(int alphabet) {
        if (alphabet < 2 || alphabet > MAX_ALPHABET)
            throw new IllegalArgumentException("alphabet must be in 2.." + MAX_ALPHABET + ", got " + alphabet);
        this.alphabet = alphabet;
    }

    public int alphabet() {
        return alphabet;
    }

    public int size() {
        return alphabet + 4;
    }

    public int bos() {
        return alphabet;
    }

    public int sep() {
        return alphabet + 1;
    }

    public int eos() {
        return alphabet + 2;
    }

    public int pad() {
        return alphabet + 3;
    }

    public boolean isLetter(int id) {
        return id >= 0 && id < alphabet;
    }

    public char symbol(int id) {
        if (isLetter(id)) return (char) ('a' + id);
        if (id == bos()) return BOS;
        if (id == sep()) return SEP;
        if (id == eos()) return EOS;
        if (id == pad()) return PAD;
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (size() - 1));
    }

    public int id(char c) {
        if (c >= 'a' && c < 'a' + alphabet) return c - 'a';
        return switch (c) {
            case BOS -> bos();
            case SEP -> sep();
            case EOS -> eos();
            case PAD -> pad();
            default -> throw new IllegalArgumentException("character '" + c + "' is not in the vocabulary ("
                    + "a-" + (char) ('a' + alphabet - 1) + " and " + BOS + SEP + EOS + PAD + ")");
        };
    }

    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    public String decode(int[] ids, int from, int to) {
        StringBuilder sb = new StringBuilder(Math.max(0, to - from));
        for (int i = from; i < to; i++) sb.append(symbol(ids[i]));
        return sb.toString();
    }

    public int[] encode(String s) {
        int[] ids = new int[s.length()];
        for (int i = 0; i < ids.length; i++) {
            try {
                ids[i] = id(s.charAt(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + " at position " + i + " of \"" + s + "\"");
            }
        }
        return ids;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocab v && v.alphabet == alphabet;
    }

    @Override
    public int hashCode() {
        return alphabet;
    }

    @Override
    public String toString() {
        return "Vocab(alphabet=" + alphabet + ", size=" + size() + ")";
    }
}
