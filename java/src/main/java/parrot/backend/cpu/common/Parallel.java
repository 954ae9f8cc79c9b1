package parrot.backend.cpu.common;


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
    /** Set in threads that run one of several jobs side by side, each on one core (see {@link #serially}). */
    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> false);
    private static final Team TEAM = THREADS > 1 ? new Team(THREADS - 1) : null;

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
     * others (write disjoint outputs), which is what keeps this deterministic. A body that calls forRange runs
     * that loop in its own thread; so does a caller that finds the team busy with another caller's loop.
     */
    public static void forRange(int n, int minChunk, Range body) {
        if (n <= 0) return;
        int chunks = Math.min(THREADS * 4, (n + minChunk - 1) / Math.max(1, minChunk));
        if (chunks <= 1 || THREADS == 1 || SERIAL.get() || !TEAM.run(n, chunks, body)) body.run(0, n);
    }

    /**
     * The caller and THREADS − 1 workers that stay awake between loops. Why not a ForkJoinPool: on the development
     * VM its submit and join took 14–32 µs for an empty loop (each a wake-up of parked threads), a training step
     * makes about a hundred such loops, and a loop of 44 µs of work took 70 split over two cores. Here a worker
     * spins for up to {@link #SPIN_NS} after each loop before it parks, the caller takes chunks as well, and chunks
     * go to whichever thread asks next (their bounds depend on n and the chunk count only, so the results do not
     * depend on who ran what).
     */
    private static final class Team {
        static final long SPIN_NS = 2_000_000;
        private final java.util.concurrent.locks.ReentrantLock busy = new java.util.concurrent.locks.ReentrantLock();
        private final Thread[] workers;
        private volatile Job job;
        private volatile long epoch;
        private final java.util.concurrent.atomic.AtomicIntegerArray sleeping;

        Team(int n) {
            workers = new Thread[n];
            sleeping = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            for (int i = 0; i < n; i++) {
                int id = i;
                workers[i] = new Thread(() -> work(id), "parrot-cpu-" + (i + 1));
                workers[i].setDaemon(true);
                workers[i].start();
            }
        }

        /** Runs the loop with the workers, or returns false at once when another caller's loop holds them. */
        boolean run(int n, int chunks, Range body) {
            if (!busy.tryLock()) return false;
            try {
                Job j = new Job(n, chunks, body);
                job = j;
                epoch++;                                               // publishes job (volatile write after it)
                for (int i = 0; i < workers.length; i++)
                    if (sleeping.get(i) != 0) java.util.concurrent.locks.LockSupport.unpark(workers[i]);
                SERIAL.set(true);                                      // a nested forRange runs in this thread
                try {
                    j.take();
                } finally {
                    SERIAL.set(false);
                }
                for (int spins = 0; j.done.get() < chunks; spins++) {
                    if (spins < 1 << 16) Thread.onSpinWait();
                    else Thread.yield();                               // a worker lost its core: let it have ours
                }
                Throwable e = j.error;
                if (e instanceof RuntimeException r) throw r;
                if (e instanceof Error err) throw err;
                if (e != null) throw new IllegalStateException(e);
                return true;
            } finally {
                busy.unlock();
            }
        }

        private void work(int id) {
            SERIAL.set(true);
            long seen = 0;
            while (true) {
                long last = System.nanoTime();
                for (int spins = 0; epoch == seen; spins++) {
                    if ((spins & 255) != 0 || System.nanoTime() - last < SPIN_NS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    sleeping.set(id, 1);                               // then epoch is read again: no lost wake-up
                    if (epoch == seen) java.util.concurrent.locks.LockSupport.park(this);
                    sleeping.set(id, 0);
                    last = System.nanoTime();
                }
                seen = epoch;
                job.take();
            }
        }
    }

    /** One loop: chunk c covers [n·c/chunks, n·(c+1)/chunks). */
    private static final class Job {
        final int n, chunks;
        final Range body;
        final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        volatile Throwable error;

        Job(int n, int chunks, Range body) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
        }

        /** Runs chunks until none is left; the first failure is kept for the caller, later chunks are skipped. */
        void take() {
            for (int c; (c = next.getAndIncrement()) < chunks; done.incrementAndGet()) {
                if (error != null) continue;
                try {
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    if (error == null) error = t;
                }
            }
        }
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
