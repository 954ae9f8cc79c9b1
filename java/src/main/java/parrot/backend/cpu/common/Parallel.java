package parrot.backend.cpu.common;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Data-parallel loops for the CPU backend. Work is split by index ranges, never by thread count inside a
 * reduction, so results are bitwise identical on any number of cores.
 */
public final class Parallel {
    /** A body that handles indices [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private static final int THREADS = threadsFromEnvironment();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);
    /** Set in threads that run one of several jobs side by side, each on one core (see {@link #serially}). */
    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> false);

    private Parallel() {
    }

    private static int threadsFromEnvironment() {
        String s = System.getProperty("parrot.threads", System.getenv("PARROT_THREADS"));
        if (s != null && !s.isBlank()) return Math.max(1, Integer.parseInt(s.trim()));
        return Runtime.getRuntime().availableProcessors();
    }

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs body over [0, n) in chunks of at least minChunk indices. Each index must be independent of the
     * others (write disjoint outputs), which is what keeps this deterministic.
     */
    public static void forRange(int n, int minChunk, Range body) {
        if (n <= 0) return;
        int chunks = Math.min(THREADS * 4, (n + minChunk - 1) / Math.max(1, minChunk));
        if (chunks <= 1 || THREADS == 1 || SERIAL.get()) {
            body.run(0, n);
            return;
        }
        final int c = chunks;
        POOL.submit(() -> IntStream.range(0, c).parallel()
                .forEach(i -> body.run((int) ((long) n * i / c), (int) ((long) n * (i + 1) / c)))).join();
    }

    /**
     * Runs job with every forRange it makes done in the calling thread. For jobs that run side by side, one a
     * core: at the small models' sizes one job on one core does more work per core than one job split over
     * two (the split ops are tens of microseconds). The results are the same bits either way.
     */
    public static <T> T serially(java.util.function.Supplier<T> job) {
        boolean was = SERIAL.get();
        SERIAL.set(true);
        try {
            return job.get();
        } finally {
            SERIAL.set(was);
        }
    }

    /** Chunk boundaries used by order-fixed reductions: a pure function of n. */
    public static final int REDUCE_CHUNK = 8192;

    public static int reduceChunks(int n) {
        return Math.max(1, (n + REDUCE_CHUNK - 1) / REDUCE_CHUNK);
    }
}
