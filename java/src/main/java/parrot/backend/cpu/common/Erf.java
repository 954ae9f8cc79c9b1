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

    /**
     * Single-precision erf (N. Juffa's minimax polynomials, about 1 ulp), for the float32 backend's GELU where
     * the double series above would dominate the profile. The float64 twin calls the double overload.
     */
    public static float erf(float a) {
        float t = Math.abs(a), s = a * a, r;
        if (t > 0.927734375f) {
            r = Math.fma(-1.72853470e-5f, t, 3.83197126e-4f);
            float u = Math.fma(-3.88396438e-3f, t, 2.42546219e-2f);
            r = Math.fma(r, s, u);
            r = Math.fma(r, t, -1.06777877e-1f);
            r = Math.fma(r, t, -6.34846687e-1f);
            r = Math.fma(r, t, -1.28717512e-1f);
            r = Math.fma(r, t, -t);
            r = 1.0f - (float) Math.exp(r);
            return Math.copySign(r, a);
        }
        r = -5.96761703e-4f;
        r = Math.fma(r, s, 4.99119423e-3f);
        r = Math.fma(r, s, -2.67681349e-2f);
        r = Math.fma(r, s, 1.12819925e-1f);
        r = Math.fma(r, s, -3.76125336e-1f);
        r = Math.fma(r, s, 1.28379166e-1f);
        return Math.fma(r, a, a);
    }
}
