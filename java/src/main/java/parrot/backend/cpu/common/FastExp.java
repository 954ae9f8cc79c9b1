package parrot.backend.cpu.common;

/**
 * exp for the selective scan's innermost loop, where it runs once per (token, channel, state). The float
 * overload (used by the float32 backend) is a range-reduced polynomial, within 3e-7 relative of the exact
 * value, about twice as fast as (float) Math.exp; the double overload (used by the generated float64 twin,
 * whose gradient checks need full precision) is Math.exp. The twin picks the double one by overload
 * resolution alone, so the scan's source reads the same in both.
 */
public final class FastExp {
    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145751953125f, LN2_LO = 1.428606765330187e-06f;

    private FastExp() {
    }

    public static float exp(float x) {
        if (x < -87.3f) return 0f;
        if (x > 88.7f) return Float.POSITIVE_INFINITY;
        if (x != x) return x;
        // x = k·ln2 + r, |r| ≤ ln2/2; exp(x) = 2^k · exp(r) with exp(r) by its Taylor polynomial to r^7
        float kf = (float) Math.floor(x * LOG2E + 0.5f);
        float r = x - kf * LN2_HI - kf * LN2_LO;
        float p = 1f + r * (1f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f + r * (8.333334e-3f
                + r * (1.3888889e-3f + r * 1.984127e-4f))))));
        int k = (int) kf;
        if (k < -126) return p * Float.intBitsToFloat((k + 127 + 64) << 23) * 5.421011e-20f; // 2^-64: subnormal range
        return p * Float.intBitsToFloat((k + 127) << 23);
    }

    public static double exp(double x) {
        return Math.exp(x);
    }
}
