package parrot.backend.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.backend.cpu.common.Simd;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float32 CPU backend's LayerNorm (NormSimd's vector rows, which the gradient checks on the float64 twin never
 * run) against the twin: output, mean, rstd and the three gradients, for widths below, at and around the vector
 * width; the weight and bias gradients bitwise the plain loop's per-column sums (rows in order).
 */
class CpuLayerNormTest {
    private static final Backend F32 = new CpuBackend(), F64 = new parrot.backend.cpu.f64.CpuBackend();

    private static Tensor up(Backend be, float[] v, int... shape) {
        Tensor t = be.zeros(shape);
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        be.upload(t, d);
        return t;
    }

    private static void close(String what, double[] want, float[] got, double tol) {
        double scale = 1;
        for (double w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol * scale, what + "[" + i + "]");
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 8, 13, 64, 70})
    void matchesTheFloat64Twin(int c) {
        assertTrue(Simd.vectorized(), "the tests run with the vector module");
        int n = 37;
        Random rnd = new Random(c);
        float[] x = new float[n * c], w = new float[c], b = new float[c], g = new float[n * c], din0 = new float[n * c];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (2 * rnd.nextGaussian() + 0.5);
            g[i] = (float) rnd.nextGaussian();
            din0[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < c; i++) {
            w[i] = (float) (1 + 0.3 * rnd.nextGaussian());
            b[i] = (float) (0.1 * rnd.nextGaussian());
        }
        Tensor[] t32 = run(F32, x, w, b, g, din0, n, c), t64 = run(F64, x, w, b, g, din0, n, c);
        String[] names = {"out", "mean", "rstd", "din", "dw", "db"};
        for (int k = 0; k < names.length; k++) close(names[k], F64.toDoubles(t64[k]), F32.toFloats(t32[k]), 2e-6);
        // dw, db: per column the plain loop's float sums over rows in order, onto the starting 0.25
        float[] mean = F32.toFloats(t32[1]), rstd = F32.toFloats(t32[2]), dw = F32.toFloats(t32[4]), db = F32.toFloats(t32[5]);
        for (int i = 0; i < c; i++) {
            float sw = 0f, sb = 0f;
            for (int r = 0; r < n; r++) {
                sw += g[r * c + i] * ((x[r * c + i] - mean[r]) * rstd[r]);
                sb += g[r * c + i];
            }
            assertEquals(Float.floatToRawIntBits(0.25f + sw), Float.floatToRawIntBits(dw[i]), "dw[" + i + "]");
            assertEquals(Float.floatToRawIntBits(0.25f + sb), Float.floatToRawIntBits(db[i]), "db[" + i + "]");
        }
    }

    private static Tensor[] run(Backend be, float[] x, float[] w, float[] b, float[] g, float[] din0, int n, int c) {
        Tensor tx = up(be, x, n, c), tw = up(be, w, c), tb = up(be, b, c), tg = up(be, g, n, c), din = up(be, din0, n, c);
        Tensor out = be.zeros(n, c), mean = be.zeros(n), rstd = be.zeros(n), dw = be.zeros(c), db = be.zeros(c);
        float[] quarter = new float[c];
        java.util.Arrays.fill(quarter, 0.25f);
        be.upload(dw, toD(quarter));
        be.upload(db, toD(quarter));
        be.layerNormForward(out, mean, rstd, tx, tw, tb, 1e-5);
        be.layerNormBackward(din, dw, db, tg, tx, tw, mean, rstd);
        return new Tensor[]{out, mean, rstd, din, dw, db};
    }

    private static double[] toD(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }
}
