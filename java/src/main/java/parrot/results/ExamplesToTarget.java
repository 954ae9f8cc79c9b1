package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The paper's first figure as a number: training examples a model needs before its string accuracy at the
 * probe lengths (train.eval_every, by default the training lengths) reaches a target, 0.9 in the paper's
 * reading. Per seed it is examples_seen at the first eval_curve point whose accuracy, pooled over the probe's
 * lengths and strings, is at least the target — an upper bound, exact to one eval_every interval. A seed that
 * never gets there has none (null), and the group says how many seeds reached it.
 *
 * @param perSeed    one value per seed in {@code seeds} order; null where the target was not reached
 * @param trainedFor the most examples any seed trained on (how far "not reached" looked)
 * @param probe      the probe's lengths and strings a length, as the curve recorded them ("1..10, n = 20")
 */
public record ExamplesToTarget(String experiment, String model, double target, List<Long> seeds, List<Long> perSeed,
                               long trainedFor, String probe) {
    public static final double PAPER_TARGET = 0.9;

    /** Null when no run of the group has an eval_curve. */
    public static ExamplesToTarget of(SeedGroups.Group g, double target) {
        if (g.runs().stream().noneMatch(r -> r.path("eval_curve").size() > 0)) return null;
        List<Long> seeds = new ArrayList<>(), per = new ArrayList<>();
        long trained = 0;
        for (JsonNode r : g.runs()) {
            seeds.add(r.path("seed").asLong());
            per.add(firstReaching(r.path("eval_curve"), target));
            trained = Math.max(trained, r.path("examples_seen").asLong());
        }
        return new ExamplesToTarget(g.experiment(), g.model(), target, List.copyOf(seeds),
                java.util.Collections.unmodifiableList(per), trained, probe(g.first().path("eval_curve")));
    }

    /** examples_seen at the first point with pooled string accuracy ≥ target; null if none. */
    static Long firstReaching(JsonNode curve, double target) {
        for (JsonNode p : curve)
            if (Across.pooledAccuracy(p.path("accuracy")) >= target - 1e-12) return p.path("examples_seen").asLong();
        return null;
    }

    private static String probe(JsonNode curve) {
        TreeSet<Integer> lengths = new TreeSet<>();
        int n = 0;
        for (JsonNode p : curve)
            for (JsonNode a : p.path("accuracy")) {
                lengths.add(a.path("length").asInt());
                n = Math.max(n, a.path("samples").asInt());
            }
        if (lengths.isEmpty()) return "";
        boolean contiguous = lengths.size() == lengths.last() - lengths.first() + 1;
        String l = lengths.size() == 1 ? "" + lengths.first()
                : contiguous ? lengths.first() + ".." + lengths.last()
                : lengths.size() <= 4 ? String.join(", ", lengths.stream().map(String::valueOf).toList())
                : lengths.first() + ".." + lengths.last() + " (" + lengths.size() + " lengths)";
        return l + ", n = " + n;
    }

    public List<Long> reached() {
        return perSeed.stream().filter(Objects::nonNull).toList();
    }

    /** Mean over the seeds that reached the target; NaN when none did. */
    public double mean() {
        return reached().stream().mapToLong(Long::longValue).average().orElse(Double.NaN);
    }

    public long min() {
        return reached().stream().mapToLong(Long::longValue).min().orElse(-1);
    }

    public long max() {
        return reached().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    /** For a legend: "42k examples (35k..50k)", "42k examples (2/3 seeds)" or "not reached in 60k". */
    public String shortSummary() {
        int k = reached().size(), m = perSeed.size();
        if (k == 0) return "not reached in " + compact(trainedFor);
        String spread = k < m ? " (" + k + "/" + m + " seeds)" : k > 1 ? " (" + compact(min()) + ".." + compact(max()) + ")" : "";
        return compact(Math.round(mean())) + " examples" + spread;
    }

    static String compact(long v) {
        if (v >= 1_000_000) return String.format("%.3gM", v / 1e6);
        if (v >= 1_000) return String.format("%.3gk", v / 1e3);
        return Long.toString(v);
    }

    /** "42,000 (35,000..50,000; 3/3 seeds)" or "not reached in 60,000 (0/3 seeds)". */
    public String summary() {
        int k = reached().size(), m = perSeed.size();
        if (k == 0) return String.format("not reached in %,d examples (0/%d seeds)", trainedFor, m);
        String spread = k > 1 ? String.format(" (%,d..%,d; %d/%d seeds)", min(), max(), k, m) : String.format(" (%d/%d seeds)", k, m);
        return String.format("%,.0f%s", mean(), spread);
    }
}
