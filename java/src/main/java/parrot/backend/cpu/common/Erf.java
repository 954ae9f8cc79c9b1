package parrot.backend.cpu.common;

/**
 * erf to full double precision (java.lang.Math has none). GELU in GPT-NeoX is the exact erf form, and the
 * golden tests compare against PyTorch at 1e-5, so a 1e-7 approximation would not do.
 */
public final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);

    private Erf() {
    }

    public static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax <= 3.0) {
            // erf(x) = 2/sqrt(pi) * x * exp(-x^2) * sum (2x^2)^n / (1*3*...*(2n+1)): all terms positive,
            // so no cancellation.
            double t = 2 * ax * ax, term = 1, sum = 1;
            for (int n = 1; n < 200 && term > 1e-17 * sum; n++) {
                term *= t / (2 * n + 1);
                sum += term;
            }
            r = TWO_OVER_SQRT_PI * ax * Math.exp(-ax * ax) * sum;
        } else if (ax < 6.5) {
            // erfc by its continued fraction, evaluated from the tail; converges fast for x >= 3.
            double f = ax;
            for (int k = 60; k >= 1; k--) f = ax + (k / 2.0) / f;
            r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
        } else {
            r = 1.0;
        }
        return x < 0 ? -r : r;
    }
}
