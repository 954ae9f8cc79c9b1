package parrot.eval;

/**
 * The 95% Wilson score interval of a binomial proportion: k successes in n independent trials. Unlike the
 * normal approximation p ± 1.96·sqrt(p(1−p)/n) it stays inside [0, 1] and is not zero-width at 0/n or n/n —
 * exactly where exact-match accuracies of small models live (0 of 20 strings is not "certainly 0").
 *
 * <p>Only string accuracy gets one: its strings are drawn independently. Character accuracy's characters are
 * not independent (one slip shifts a whole answer), so a binomial interval on them would be too narrow.
 */
public record Wilson(double lo, double hi) {
    /** The normal quantile for a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    /** No trials: nothing is known, the interval is all of [0, 1]. */
    public static final Wilson UNKNOWN = new Wilson(0, 1);

    public static Wilson of(long k, long n) {
        if (n < 0 || k < 0 || k > n) throw new IllegalArgumentException("Wilson interval needs 0 <= k <= n, got k=" + k + ", n=" + n);
        if (n == 0) return UNKNOWN;
        double z2 = Z95 * Z95, p = (double) k / n;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = Z95 / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        // At k = 0 or k = n the formula's bound is 0 or 1 up to rounding: make it exact.
        return new Wilson(k == 0 ? 0 : Math.max(0, centre - half), k == n ? 1 : Math.min(1, centre + half));
    }

    /** From an accuracy measured on n strings (accuracy·n is the whole number of strings right). */
    public static Wilson ofAccuracy(double accuracy, long n) {
        if (n == 0) return UNKNOWN;
        return of(Math.round(accuracy * n), n);
    }
}
