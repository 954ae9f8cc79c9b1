package parrot.selftest;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.Arrays;
import java.util.Random;

/** The same tensor contents on two backends, and the comparison of what two backends computed. */
final class Pairs {
    record Pair(Tensor ref, Tensor cand) {
    }

    private final Backend ref, cand;
    private final Random rnd;

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

    /** Uniform in [lo, hi): positive step sizes δ, negative A, and the like. */
    Pair uniform(double lo, double hi, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * rnd.nextDouble();
        return of(v, shape);
    }

    Pair of(double[] v, int... shape) {
        Tensor a = ref.zeros(shape), b = cand.zeros(shape);
        ref.upload(a, v);
        cand.upload(b, v);
        return new Pair(a, b);
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
        ref.uploadInts(a, v);
        cand.uploadInts(b, v);
        return new Pair(a, b);
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
        return error(ref.toDoubles(p.ref()), cand.toDoubles(p.cand()));
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

    void release(Pair... ps) {
        for (Pair p : ps) {
            ref.release(p.ref());
            cand.release(p.cand());
        }
    }
}
