package parrot.data;

/**
 * One character a token: letters a.. are ids 0..alphabet-1, then the four specials, as in the paper
 * (alphabet 26 gives BOS 26, SEP 27, EOS 28, PAD 29, vocabulary 30). A task that needs more characters (the
 * phone book's digits, space, ':' and newline) adds them as <em>extras</em> after PAD, in the order given, so
 * the ids of letters and specials never move: {@code new Vocab(26, "0123456789 :\n")} has '0' = 30 … '\n' = 42.
 */
public final class Vocab {
    public static final char BOS = '$';
    public static final char SEP = '|';
    public static final char EOS = '.';
    public static final char PAD = '*';
    public static final int MAX_ALPHABET = 26;

    /** The phone book's extra characters: digits, space, ':' and newline (ids alphabet+4 … alphabet+16). */
    public static final String PHONEBOOK_EXTRAS = "0123456789 :\n";

    private final int alphabet;
    private final String extras;

    public Vocab(int alphabet) {
        this(alphabet, "");
    }

    /** Letters a.., the four specials, then each character of {@code extras} (distinct, no letters or specials). */
    public Vocab(int alphabet, String extras) {
        if (alphabet < 2 || alphabet > MAX_ALPHABET)
            throw new IllegalArgumentException("alphabet must be in 2.." + MAX_ALPHABET + ", got " + alphabet);
        if (extras == null) extras = "";
        for (int i = 0; i < extras.length(); i++) {
            char c = extras.charAt(i);
            if ((c >= 'a' && c <= 'z') || c == BOS || c == SEP || c == EOS || c == PAD)
                throw new IllegalArgumentException("extra character '" + c + "' is a letter or a special");
            if (extras.indexOf(c) != i) throw new IllegalArgumentException("extra character '" + c + "' given twice");
        }
        this.alphabet = alphabet;
        this.extras = extras;
    }

    /** This vocabulary with {@code more} extra characters appended (those it has already are skipped). */
    public Vocab withExtras(String more) {
        StringBuilder sb = new StringBuilder(extras);
        for (char c : more.toCharArray()) if (sb.indexOf(String.valueOf(c)) < 0) sb.append(c);
        return sb.length() == extras.length() ? this : new Vocab(alphabet, sb.toString());
    }

    public String extras() {
        return extras;
    }

    public int alphabet() {
        return alphabet;
    }

    public int size() {
        return alphabet + 4 + extras.length();
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
        if (id > pad() && id < size()) return extras.charAt(id - pad() - 1);
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (size() - 1));
    }

    public int id(char c) {
        if (c >= 'a' && c < 'a' + alphabet) return c - 'a';
        return switch (c) {
            case BOS -> bos();
            case SEP -> sep();
            case EOS -> eos();
            case PAD -> pad();
            default -> {
                int e = extras.indexOf(c);
                if (e >= 0) yield pad() + 1 + e;
                throw new IllegalArgumentException("character '" + (c == '\n' ? "\\n" : String.valueOf(c))
                        + "' is not in the vocabulary (a-" + (char) ('a' + alphabet - 1) + " and " + BOS + SEP + EOS + PAD
                        + (extras.isEmpty() ? "" : " and " + extras.replace("\n", "\\n")) + ")");
            }
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
        return o instanceof Vocab v && v.alphabet == alphabet && v.extras.equals(extras);
    }

    @Override
    public int hashCode() {
        return alphabet * 31 + extras.hashCode();
    }

    @Override
    public String toString() {
        return "Vocab(alphabet=" + alphabet + (extras.isEmpty() ? "" : ", extras=\"" + extras.replace("\n", "\\n") + "\"")
                + ", size=" + size() + ")";
    }
}
