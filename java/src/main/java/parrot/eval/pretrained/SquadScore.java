package parrot.eval.pretrained;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * SQuAD v1.1's answer scoring as the paper's reference code (qa_evaluation_utils.py) does it: lower-case, "_" and
 * punctuation (ASCII punctuation plus ‘ ’ ´ `) to spaces, the articles a/an/the dropped, whitespace collapsed;
 * exact match and token F1, each the best over the gold answers.
 */
public final class SquadScore {
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~‘’´`";
    // Python 3's re is Unicode-aware: \b and \s there match as Java's do with UNICODE_CHARACTER_CLASS.
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern SPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    private SquadScore() {
    }

    public static String normalize(String s) {
        String t = s.replace('_', ' ').toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            b.append(PUNCTUATION.indexOf(c) >= 0 ? ' ' : c);
        }
        t = ARTICLES.matcher(b).replaceAll(" ");
        return String.join(" ", tokens(t));
    }

    private static List<String> tokens(String normalized) {
        String s = normalized.strip();
        return s.isEmpty() ? List.of() : List.of(SPACE.split(s));
    }

    public static boolean exactMatch(String prediction, List<String> golds) {
        String p = normalize(prediction);
        for (String g : golds) if (p.equals(normalize(g))) return true;
        return false;
    }

    public static double f1(String prediction, List<String> golds) {
        double best = 0;
        for (String g : golds) best = Math.max(best, f1(prediction, g));
        return best;
    }

    static double f1(String prediction, String gold) {
        List<String> p = tokens(normalize(prediction)), g = tokens(normalize(gold));
        Map<String, Integer> counts = new HashMap<>();
        for (String w : g) counts.merge(w, 1, Integer::sum);
        int same = 0;
        for (String w : p) {
            Integer c = counts.get(w);
            if (c != null && c > 0) {
                same++;
                counts.put(w, c - 1);
            }
        }
        if (same == 0) return 0;
        double precision = (double) same / p.size(), recall = (double) same / g.size();
        return 2 * precision * recall / (precision + recall);
    }
}
