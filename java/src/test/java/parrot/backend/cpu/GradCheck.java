package parrot.backend.cpu;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Central finite differences in float64 against an op's analytic backward. The scalar checked is
 * L = Σ r·out for a fixed random r, so every output element matters.
 */
public final class GradCheck {
    private GradCheck() {
    }

    public static double[] random(Random rnd, int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = scale * rnd.nextGaussian();
        return v;
    }

    public static Tensor tensor(Backend be, Random rnd, double scale, int... shape) {
        Tensor t = be.zeros(shape);
        be.upload(t, random(rnd, t.length(), scale));
        return t;
    }

    /**
     * @param forward  recomputes out from the inputs
     * @param backward given dout, accumulates into the gradient tensors (zeroed here first)
     */
    public static void check(String what, Backend be, Tensor[] inputs, Tensor[] grads, Tensor out, Runnable forward,
                             Consumer<Tensor> backward, double tol) {
        Random rnd = new Random(what.hashCode());
        double[] r = random(rnd, out.length(), 1.0);
        Tensor dout = be.zeros(out.shape());
        be.upload(dout, r);
        forward.run();
        for (Tensor g : grads) be.zero(g);
        backward.accept(dout);
        for (int k = 0; k < inputs.length; k++) {
            double[] x = be.toDoubles(inputs[k]);
            double[] analytic = be.toDoubles(grads[k]);
            double eps = 1e-6, worst = 0;
            int worstAt = -1;
            for (int i = 0; i < x.length; i++) {
                double keep = x[i];
                x[i] = keep + eps;
                be.upload(inputs[k], x);
                forward.run();
                double plus = dot(be.toDoubles(out), r);
                x[i] = keep - eps;
                be.upload(inputs[k], x);
                forward.run();
                double minus = dot(be.toDoubles(out), r);
                x[i] = keep;
                be.upload(inputs[k], x);
                double numeric = (plus - minus) / (2 * eps);
                double err = Math.abs(numeric - analytic[i]) / Math.max(1.0, Math.abs(numeric) + Math.abs(analytic[i]));
                if (err > worst) {
                    worst = err;
                    worstAt = i;
                }
            }
            final double w = worst;
            final int at = worstAt, which = k;
            assertTrue(w < tol, () -> what + ": gradient of input #" + which + " element " + at + " off by " + w
                    + " (tolerance " + tol + ")");
        }
        forward.run();
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
