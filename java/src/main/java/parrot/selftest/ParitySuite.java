package parrot.selftest;

import parrot.backend.Backend;
import parrot.backend.cuda.CudaBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The one parity suite: every Backend op (OpParity, AttentionParity) and a training step of each model family
 * (TrainingStepParity) on a candidate backend against the float64 CPU reference. `parrot selftest` runs it, and
 * so does the JUnit test CudaParityTest (one dynamic test per check), on whatever CUDA device there is — a real
 * card or the emulated one, which its report names.
 *
 * <p>Each check runs on fresh seeded inputs and releases everything it allocated. On a CUDA candidate it must leave
 * no tensor behind, and on the emulated device (whose memory accounting is exact) no device memory that is neither
 * a tensor nor a scratch buffer: a missing free fails the check of the op. A failure names the kernels it launched.
 */
public final class ParitySuite {
    /**
     * A named check on one variant of the candidate (see {@link Candidate}); its body returns the worst relative
     * error, which must be within {@code tolerance} (times the run's scale).
     */
    public record Check(String name, String variant, double tolerance, ToDoubleFunction<Pairs> body) {
        Check(String name, double tolerance, ToDoubleFunction<Pairs> body) {
            this(name, Candidate.DEFAULT, tolerance, body);
        }

        /** The name with its variant, as reported: "linear 7x5->3 [gemm=builtin]". */
        public String fullName() {
            return variant.isEmpty() ? name : name + " [" + variant + "]";
        }
    }

    private ParitySuite() {
    }

    /** Every check the candidate's variants allow, in a fixed order (seeds follow the order). */
    public static List<Check> checks(Set<String> variants) {
        List<Check> cs = new ArrayList<>();
        for (Check c : OpParity.checks()) if (variants.contains(c.variant())) cs.add(c);
        for (Check c : AttentionParity.checks()) if (variants.contains(c.variant())) cs.add(c);
        cs.addAll(TrainingStepParity.checks());
        return cs;
    }

    /** Runs every check; tolScale multiplies each tolerance (tests use a tiny one to see that checks can fail). */
    public static List<CheckResult> run(Backend ref, Candidate cand, double tolScale) {
        List<CheckResult> out = new ArrayList<>();
        List<Check> cs = checks(cand.variants());
        for (int i = 0; i < cs.size(); i++) out.add(run(cs.get(i), i + 1, ref, cand, tolScale));
        return out;
    }

    /** One check with seed {@code seed}; never throws: a check that throws is FAILED with what it threw. */
    public static CheckResult run(Check c, long seed, Backend ref, Candidate cand, double tolScale) {
        double tol = c.tolerance() * tolScale;
        Backend be;
        try {
            be = cand.get(c.variant());
        } catch (RuntimeException e) {
            return new CheckResult(c.fullName(), "FAILED", Double.NaN, tol, "cannot open the variant: " + e, 0);
        }
        CudaBackend cuda = be instanceof CudaBackend g ? g : null;
        int liveBefore = cuda == null ? 0 : cuda.liveTensors();
        long unaccountedBefore = cuda == null ? 0 : cuda.unaccountedDeviceBytes();
        if (cuda != null) cuda.takeLaunchedKernels();
        long t0 = System.nanoTime();
        Pairs p = new Pairs(ref, be, seed);
        double err;
        String detail = "";
        try {
            err = c.body().applyAsDouble(p);
            p.releaseAll();
            detail = p.worst();
        } catch (RuntimeException | AssertionError e) {
            err = Double.NaN;
            detail = e.toString();
            try {
                p.releaseAll();
            } catch (RuntimeException ignored) {
                // the check already failed; its first error is the one to report
            }
        }
        boolean ok = err <= tol;
        if (cuda != null) {
            int leaked = cuda.liveTensors() - Math.max(liveBefore, p.kept());
            if (leaked != 0 && ok) {
                ok = false;
                detail = leaked + " device tensor(s) left allocated by the op" + (detail.isEmpty() ? "" : "; " + detail);
            }
            long grown = cuda.unaccountedDeviceBytes() - unaccountedBefore;
            if (grown != 0 && ok && cand.emulated()) {
                ok = false;
                detail = grown + " bytes of device memory allocated and not freed by the op (neither a tensor nor a "
                        + "scratch buffer)" + (detail.isEmpty() ? "" : "; " + detail);
            }
            List<String> kernels = cuda.takeLaunchedKernels();
            if (!ok) detail = detail + "; kernels launched: " + (kernels.isEmpty() ? "none" : String.join(", ", kernels));
        }
        return new CheckResult(c.fullName(), ok ? "PASSED" : "FAILED", err, tol, detail, (System.nanoTime() - t0) / 1e9);
    }
}
