package parrot.model;

import parrot.backend.Backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Central finite differences of a whole model's mean loss against its backward, every parameter element. */
final class ModelGradCheck {
    private ModelGradCheck() {
    }

    static void assertGradientsMatch(String what, LanguageModel m, int[] in, int[] tg, int b, int t, double tol) {
        Backend be = m.backend();
        m.forwardBackward(in, tg, b, t);
        double worst = 0;
        String where = "";
        for (Parameter p : m.parameters().list()) {
            double[] g = be.toDoubles(p.grad()), x = be.toDoubles(p.value());
            for (int i = 0; i < x.length; i++) {
                double keep = x[i], eps = 1e-6;
                x[i] = keep + eps;
                be.upload(p.value(), x);
                m.forward(in, b, t);
                double plus = m.loss(tg);
                x[i] = keep - eps;
                be.upload(p.value(), x);
                m.forward(in, b, t);
                double minus = m.loss(tg);
                x[i] = keep;
                be.upload(p.value(), x);
                double num = (plus - minus) / (2 * eps);
                double err = Math.abs(num - g[i]) / Math.max(1e-3, Math.abs(num) + Math.abs(g[i]));
                if (err > worst) {
                    worst = err;
                    where = p.name() + "[" + i + "] analytic " + g[i] + " numeric " + num;
                }
            }
        }
        double w = worst;
        String at = where;
        assertTrue(w < tol, () -> what + ": worst relative error " + w + " at " + at);
    }
}
