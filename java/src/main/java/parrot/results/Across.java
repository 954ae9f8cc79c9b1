package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;
import parrot.eval.Wilson;

import java.util.List;

/**
 * One measurement (an accuracy at one length, or pooled over lengths) across the seeds of a group: the value
 * of each seed, and the strings right and scored summed over seeds (for the Wilson interval of one seed).
 *
 * <p>{@link #band} is what plots shade: with two or more seeds the min..max across seeds (seed-to-seed
 * spread, which includes the sampling noise of each seed's n strings); with one seed the 95% Wilson interval
 * of its n strings, the only spread there is to show.
 */
public record Across(List<Long> seeds, List<Double> values, long right, long n) {
    public double mean() {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    public double min() {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    public double max() {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** {lo, hi}: min..max across seeds, or one seed's Wilson interval. */
    public double[] band() {
        if (values.size() > 1) return new double[]{min(), max()};
        Wilson w = Wilson.of(right, n);
        return new double[]{w.lo(), w.hi()};
    }

    /** What {@link #band} is, for legends and tables. */
    public String bandKind() {
        return values.size() > 1 ? "min..max over " + values.size() + " seeds" : "95% Wilson interval, n = " + n;
    }

    /** Strings right and scored in a result's accuracy list, pooled over its lengths: {right, n}. */
    public static long[] pooled(JsonNode accuracy) {
        long right = 0, n = 0;
        for (JsonNode a : accuracy) {
            long s = a.path("samples").asLong();
            right += Math.round(a.path("string_accuracy").asDouble() * s);
            n += s;
        }
        return new long[]{right, n};
    }

    /** Pooled string accuracy of an accuracy list (over all its strings; the plain mean when n is missing). */
    public static double pooledAccuracy(JsonNode accuracy) {
        long[] p = pooled(accuracy);
        if (p[1] > 0) return (double) p[0] / p[1];
        double s = 0;
        int k = 0;
        for (JsonNode a : accuracy) {
            s += a.path("string_accuracy").asDouble();
            k++;
        }
        return k == 0 ? Double.NaN : s / k;
    }
}
