package parrot.selftest;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The same tensor contents on two backends, and the comparison of what two backends computed. Inputs are rounded
 * to float32 first, so both sides start from the same numbers (the float64 reference would otherwise see digits
 * the float32 candidate never gets) and ops that only move data can be checked bitwise. Every tensor made here is
 * released by {@link #releaseAll}, so what remains allocated afterwards is the op's own leak.
 */
final class Pairs {
    record Pair(Tensor ref, Tensor cand) {
    }

    private final Backend ref, cand;
    private final Random rnd;
    private final List<Pair> made = new ArrayList<>();
    private double worstSeen = -1;
    private String worstWhere = "";
    private int kept = -1;

    Pairs(Backend ref, Backend cand, long seed) {
        this.ref = ref;
        this.cand = cand;
        this.rnd = new Random(seed);
    }

    Pair random(double scale, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = scale * rnd.nextGaussian();
        return of(v, shape);
    }

    /** Gaussian around shift (LayerNorm's inputs: a mean far from zero tests the variance's cancellation). */
    Pair shifted(double scale, double shift, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = shift + scale * rnd.nextGaussian();
        return of(v, shape);
    }

    double nextGaussian() {
        return rnd.nextGaussian();
    }

    /** Uniform in [lo, hi): positive step sizes δ, negative A, and the like. */
    Pair uniform(double lo, double hi, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * rnd.nextDouble();
        return of(v, shape);
    }

    Pair of(double[] v, int... shape) {
        double[] f = new double[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        Tensor a = ref.zeros(shape), b = cand.zeros(shape);
        Pair p = new Pair(a, b);
        made.add(p);
        ref.upload(a, f);
        cand.upload(b, f);
        return p;
    }

    /** An output the op must overwrite: NaN everywhere, so an element it forgets shows. */
    Pair poisoned(int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        Arrays.fill(v, Double.NaN);
        return of(v, shape);
    }

    Pair ints(int bound, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = bound > 0 ? rnd.nextInt(bound) : 0;
        return ints(v, shape);
    }

    Pair ints(int[] v, int... shape) {
        Tensor a = ref.zerosInt(shape), b = cand.zerosInt(shape);
        Pair p = new Pair(a, b);
        made.add(p);
        ref.uploadInts(a, v);
        cand.uploadInts(b, v);
        return p;
    }

    /** A pair of tensors made elsewhere (by an op's caller), released with the rest. */
    Pair adopt(Tensor r, Tensor c) {
        Pair p = new Pair(r, c);
        made.add(p);
        return p;
    }

    Backend refBackend() {
        return ref;
    }

    Backend candBackend() {
        return cand;
    }

    int nextInt(int bound) {
        return rnd.nextInt(bound);
    }

    /** max |cand − ref| / max(max |ref|, 1e-6): relative to the tensor's scale, NaN counts as infinite. */
    double error(Pair p) {
        return error(ref.toDoubles(p.ref()), cand.toDoubles(p.cand()), java.util.Arrays.toString(p.ref().shape()));
    }

    /**
     * The same relative to max(max |ref|, floor): for a log-sum-exp, whose error matters absolutely (exp of it is
     * the relative error of every probability), floor 1 keeps a row whose scores nearly cancel from being held
     * to a relative bound that rounded operands cannot meet.
     */
    double error(Pair p, double floor) {
        double[] r = ref.toDoubles(p.ref()), c = cand.toDoubles(p.cand());
        double maxRef = 0;
        for (double x : r) maxRef = Math.max(maxRef, Math.abs(x));
        double e = error(r, c, java.util.Arrays.toString(p.ref().shape()) + " (relative to max(|ref|, " + floor + "))");
        return maxRef >= floor ? e : e * Math.max(maxRef, 1e-6) / floor;
    }

    /** The same for two arrays; the worst error of this check is remembered with where it was (see worst()). */
    double error(double[] r, double[] c, String what) {
        double e = error(r, c);
        if (!(e <= worstSeen)) {
            double scale = 1e-6;
            int at = 0;
            double worst = -1;
            for (double x : r) scale = Math.max(scale, Math.abs(x));
            for (int i = 0; i < r.length; i++) {
                double d = Math.abs(c[i] - r[i]);
                if (!(d <= worst)) {
                    worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                    at = i;
                }
                if (worst == Double.POSITIVE_INFINITY) break;
            }
            worstSeen = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
            worstWhere = r.length == 0 ? what : String.format("tensor %s [%d]: %s, reference %s (max |ref| %.4g)",
                    what, at, (float) c[at], (float) r[at], scale);
        }
        return e;
    }

    /** An error computed by the check itself (a loss, say), with where it was. */
    void note(double e, String where) {
        if (!(e <= worstSeen)) {
            worstSeen = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
            worstWhere = where;
        }
    }

    /** What the candidate holds now is the check's own (a model it keeps), not an op's leak. */
    void keepAllocated() {
        if (cand instanceof parrot.backend.cuda.CudaBackend g) kept = g.liveTensors();
    }

    /** The candidate's live tensors a check keeps on purpose (see keepAllocated), -1 when none. */
    int kept() {
        return kept;
    }

    /** Where the largest error of this check was seen, "" when none was. */
    String worst() {
        return worstSeen > 0 ? worstWhere : "";
    }

    static double error(double[] r, double[] c) {
        double scale = 1e-6, worst = 0;
        for (double x : r) scale = Math.max(scale, Math.abs(x));
        for (int i = 0; i < r.length; i++) {
            double e = Math.abs(c[i] - r[i]);
            if (!(e <= worst)) worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        }
        return worst / scale;
    }

    double intMismatch(Pair p) {
        int[] a = ref.toInts(p.ref()), b = cand.toInts(p.cand());
        int bad = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) bad++;
        return (double) bad / Math.max(1, a.length);
    }

    /** Releases every tensor made through this object (each side once). */
    void releaseAll() {
        RuntimeException first = null;
        for (Pair p : made) {
            try {
                ref.release(p.ref());
                cand.release(p.cand());
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        made.clear();
        if (first != null) throw first;
    }
}
