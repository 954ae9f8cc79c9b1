package parrot.cli;

import parrot.backend.Backend;
import parrot.backend.cpu.common.Parallel;
import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;
import parrot.eval.LengthResult;
import parrot.train.MemoryBudget;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The models of one `parrot train` side by side on the CPU (--jobs). Why: at the small twins' sizes an op is tens
 * of microseconds, and splitting each over two cores bought only 1.3x (transformer, Mamba); two models, each on
 * its own core, get nearly 2x. Every model's numbers are the same bits either way: the CPU backend's results do
 * not depend on its thread count, and each model has its own seed, data and folder.
 */
final class TrainJobs {
    /** What a job that never began returns (a stop or another model's failure came first). */
    static final List<LengthResult> NOT_STARTED = List.of();

    private TrainJobs() {
    }

    /**
     * How many models to train at once: 1 unless the backend is the CPU's; "auto" = one a core up to the number
     * of models, fewer where their estimated memory would not fit the heap together; N = N, refused where it
     * cannot apply.
     */
    static int count(String jobs, Backend be, ExperimentConfig exp, List<ModelConfig> models) {
        boolean cpu = be instanceof parrot.backend.cpu.CpuBackend || be instanceof parrot.backend.cpu.f64.CpuBackend;
        int n = parse(jobs);
        if (n == AUTO) {
            if (!cpu) return 1;
            n = Math.min(models.size(), Parallel.threads());
            while (n > 1 && largest(exp, models, be, n) > MemoryBudget.heapAvailable()) n--;
            return Math.max(1, n);
        }
        if (n > 1 && !cpu)
            throw new IllegalArgumentException("--jobs " + n + ": models train side by side on the CPU backend only; "
                    + be.name() + " trains one at a time (--jobs 1 or auto)");
        long need = n > 1 ? largest(exp, models, be, n) : 0, have = MemoryBudget.heapAvailable();
        if (need > have)
            throw new IllegalArgumentException("--jobs " + n + ": the " + n + " largest models need about "
                    + need / (1 << 20) + " MiB together, the Java heap has " + have / (1 << 20)
                    + " MiB free; lower --jobs or give Java more memory (java -Xmx...)");
        return Math.min(n, Math.max(1, models.size()));
    }

    static final int AUTO = -1;

    /** --jobs: AUTO for "auto", else a positive count; anything else is refused in one line. */
    static int parse(String jobs) {
        if (jobs.strip().equals("auto")) return AUTO;
        int n;
        try {
            n = Integer.parseInt(jobs.strip());
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1) throw new IllegalArgumentException("--jobs: '" + jobs + "'; allowed: auto or a positive integer");
        return n;
    }

    /** The summed training memory of the n models that need the most. */
    private static long largest(ExperimentConfig exp, List<ModelConfig> models, Backend be, int n) {
        int bytes = be.dtype() == parrot.backend.Tensor.DType.F64 ? 8 : 4;
        return models.stream().map(m -> MemoryBudget.trainingBytes(m, exp.task().vocabSize(), exp.train().batchSize(),
                        exp.train().context(), bytes, true))
                .sorted(Comparator.reverseOrder()).limit(n).mapToLong(Long::longValue).sum();
    }

    /**
     * Runs train over the models, jobs at a time, in config order; each job's ops run in its own thread when
     * there is no more than a core a job. Returns each model's result in config order: null where a stop ended
     * it, {@link #NOT_STARTED} where it never began. After one model fails, no further model starts; the others
     * finish, and then the first failure is thrown.
     */
    static Map<ModelConfig, List<LengthResult>> run(List<ModelConfig> models, int jobs, BooleanSupplier stop,
                                                    Function<ModelConfig, List<LengthResult>> train) {
        Map<ModelConfig, List<LengthResult>> out = new LinkedHashMap<>();
        if (jobs <= 1) {                                   // in the caller's thread (a CUDA context is per thread)
            boolean stopped = false;                        // a stop ended a model: start no more
            for (ModelConfig mc : models) {
                List<LengthResult> r = stopped || stop.getAsBoolean() ? NOT_STARTED : train.apply(mc);
                stopped |= r == null;
                out.put(mc, r);
            }
            return out;
        }
        boolean oneCoreEach = Parallel.threads() <= jobs;
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "train-job");
            t.setDaemon(true);
            return t;
        });
        AtomicBoolean failed = new AtomicBoolean();
        List<Future<List<LengthResult>>> futures = new ArrayList<>();
        try {
            for (ModelConfig mc : models)
                futures.add(pool.submit(() -> {
                    if (failed.get() || stop.getAsBoolean()) return NOT_STARTED;
                    try {
                        return oneCoreEach ? Parallel.serially(() -> train.apply(mc)) : train.apply(mc);
                    } catch (RuntimeException | Error e) {
                        failed.set(true);
                        throw e;
                    }
                }));
        } finally {
            pool.shutdown();
        }
        Throwable first = null;
        for (int i = 0; i < models.size(); i++) {
            try {
                out.put(models.get(i), futures.get(i).get());
            } catch (ExecutionException e) {
                if (first == null) first = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while models were training", e);
            }
        }
        if (first instanceof RuntimeException r) throw r;
        if (first instanceof Error e) throw e;
        if (first != null) throw new IllegalStateException(first);
        return out;
    }
}
