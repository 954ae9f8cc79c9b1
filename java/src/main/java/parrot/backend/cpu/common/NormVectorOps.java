package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link NormSimd} on the Vector API: whole vectors over a row's channels, then scalars for the tail. */
final class NormVectorOps {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int W = F.length();

    private NormVectorOps() {
    }

    /** The lanes of v in order, as a float sum. */
    private static float lanes(FloatVector v, float[] tmp) {
        v.intoArray(tmp, 0);
        float s = 0f;
        for (int i = 0; i < W; i++) s += tmp[i];
        return s;
    }

    static void forward(float[] out, float[] mean, float[] rstd, float[] in, float[] w, float[] b, double eps, int c,
                        int lo, int hi) {
        float[] tmp = new float[W];
        int cv = F.loopBound(c);
        for (int r = lo; r < hi; r++) {
            int base = r * c, i = 0;
            FloatVector acc = FloatVector.zero(F);
            for (; i < cv; i += W) acc = acc.add(FloatVector.fromArray(F, in, base + i));
            float sum = lanes(acc, tmp);
            for (; i < c; i++) sum += in[base + i];
            float m = sum / c;
            acc = FloatVector.zero(F);
            for (i = 0; i < cv; i += W) {
                FloatVector d = FloatVector.fromArray(F, in, base + i).sub(m);
                acc = d.fma(d, acc);
            }
            float v = lanes(acc, tmp);
            for (; i < c; i++) {
                float d = in[base + i] - m;
                v = Math.fma(d, d, v);
            }
            float s = (float) (1.0 / Math.sqrt(v / c + eps));
            for (i = 0; i < cv; i += W) {
                FloatVector y = FloatVector.fromArray(F, in, base + i).sub(m).mul(s).mul(FloatVector.fromArray(F, w, i));
                if (b != null) y = y.add(FloatVector.fromArray(F, b, i));
                y.intoArray(out, base + i);
            }
            for (; i < c; i++) out[base + i] = (in[base + i] - m) * s * w[i] + (b == null ? 0f : b[i]);
            mean[r] = m;
            rstd[r] = s;
        }
    }

    static void inputGrad(float[] din, float[] dout, float[] in, float[] w, float[] mean, float[] rstd, int c, int lo,
                          int hi) {
        float[] tmp = new float[W];
        int cv = F.loopBound(c);
        for (int r = lo; r < hi; r++) {
            int base = r * c, i = 0;
            float m = mean[r], s = rstd[r];
            FloatVector sa = FloatVector.zero(F), sb = sa;
            for (; i < cv; i += W) {
                FloatVector norm = FloatVector.fromArray(F, in, base + i).sub(m).mul(s);
                FloatVector dnorm = FloatVector.fromArray(F, w, i).mul(FloatVector.fromArray(F, dout, base + i));
                sa = sa.add(dnorm);
                sb = dnorm.fma(norm, sb);
            }
            float ta = lanes(sa, tmp), tb = lanes(sb, tmp);
            for (; i < c; i++) {
                float norm = (in[base + i] - m) * s, dnorm = w[i] * dout[base + i];
                ta += dnorm;
                tb = Math.fma(dnorm, norm, tb);
            }
            float a = ta / c, bb = tb / c;
            for (i = 0; i < cv; i += W) {
                FloatVector norm = FloatVector.fromArray(F, in, base + i).sub(m).mul(s);
                FloatVector dnorm = FloatVector.fromArray(F, w, i).mul(FloatVector.fromArray(F, dout, base + i));
                dnorm.sub(a).sub(norm.mul(bb)).mul(s).add(FloatVector.fromArray(F, din, base + i)).intoArray(din, base + i);
            }
            for (; i < c; i++) {
                float norm = (in[base + i] - m) * s, dnorm = w[i] * dout[base + i];
                din[base + i] += (dnorm - a - norm * bb) * s;
            }
        }
    }

    static void paramGrads(float[] dw, float[] db, float[] dout, float[] in, float[] mean, float[] rstd, int n, int c,
                           int lo, int hi) {
        int i = lo;
        for (; i + W <= hi; i += W) {                  // sw += g·((x − mean)·rstd), sb += g: the plain loop's operations
            FloatVector sw = FloatVector.zero(F), sb = sw;
            for (int r = 0; r < n; r++) {
                FloatVector g = FloatVector.fromArray(F, dout, r * c + i);
                sw = sw.add(g.mul(FloatVector.fromArray(F, in, r * c + i).sub(mean[r]).mul(rstd[r])));
                sb = sb.add(g);
            }
            if (dw != null) FloatVector.fromArray(F, dw, i).add(sw).intoArray(dw, i);
            if (db != null) FloatVector.fromArray(F, db, i).add(sb).intoArray(db, i);
        }
        for (; i < hi; i++) {
            float sw = 0f, sb = 0f;
            for (int r = 0; r < n; r++) {
                float g = dout[r * c + i];
                sw += g * ((in[r * c + i] - mean[r]) * rstd[r]);
                sb += g;
            }
            if (dw != null) dw[i] += sw;
            if (db != null) db[i] += sb;
        }
    }
}
