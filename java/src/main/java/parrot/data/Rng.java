package parrot.data;

/**
 * SplitMix64 (Steele, Lea, Flood 2014). The whole state is one long, so a generator can be saved in a checkpoint
 * and resumed exactly; only integer arithmetic, StrictMath and the exactly rounded Math.sqrt are used, so every
 * JVM draws the same numbers.
 */
public final class Rng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private long state;

    /** SplitMix64's seed is its state; use {@link #derive} to get decorrelated generators from related seeds. */
    public Rng(long seed) {
        this.state = seed;
    }

    public static Rng fromState(long state) {
        return new Rng(state);
    }

    /**
     * An independent generator for one stream of a seeded run, e.g. (seed, step) for a training batch or
     * (seed, length) for evaluation strings. Each stream id goes through a full mixing round, so neighbouring
     * ids, and tuples differing only in order or length, give unrelated generators.
     */
    public static Rng derive(long seed, long... streams) {
        long h = mix(seed + GOLDEN);
        for (long s : streams) h = mix(h ^ mix(s + 2 * GOLDEN));
        return new Rng(h);
    }

    public long state() {
        return state;
    }

    public long nextLong() {
        state += GOLDEN;
        return mix(state);
    }

    /** Uniform in [0, bound), without modulo bias (Lemire, "Fast random integer generation in an interval"). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound; // 2^32 mod bound: the values that would bias
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** Uniform in [lo, hiInclusive]. */
    public int nextInt(int lo, int hiInclusive) {
        if (hiInclusive < lo) throw new IllegalArgumentException("empty range " + lo + ".." + hiInclusive);
        long span = (long) hiInclusive - lo + 1;
        if (span <= Integer.MAX_VALUE) return lo + nextInt((int) span);
        while (true) { // span is at most 2^32, so fewer than half of the draws are rejected
            long r = nextLong() >>> 32;
            if (r < span) return (int) (lo + r);
        }
    }

    /** Uniform in [0, 1) on the 2^53 grid. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Standard normal by Box-Muller; the second value is thrown away so that the state stays one long. */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log stays finite
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * Math.PI * u2);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
