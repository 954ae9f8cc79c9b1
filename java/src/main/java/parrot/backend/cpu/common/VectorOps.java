package parrot.backend.cpu.common;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link Simd.Ops} on the Vector API: the widest vectors, then scalars for the tail. */
final class VectorOps implements Simd.Ops {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    @Override
    public void axpy(float[] y, int yo, float a, float[] x, int xo, int n) {
        int i = 0;
        if (n >= F.length()) {
            FloatVector av = FloatVector.broadcast(F, a);
            for (int up = F.loopBound(n); i < up; i += F.length())
                FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0f;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            for (int up = F.loopBound(n); i < up; i += F.length())
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void axpy(double[] y, int yo, double a, double[] x, int xo, int n) {
        int i = 0;
        if (n >= D.length()) {
            DoubleVector av = DoubleVector.broadcast(D, a);
            for (int up = D.loopBound(n); i < up; i += D.length())
                DoubleVector.fromArray(D, x, xo + i).fma(av, DoubleVector.fromArray(D, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    @Override
    public double dot(double[] a, int ao, double[] b, int bo, int n) {
        int i = 0;
        double s = 0;
        if (n >= D.length()) {
            DoubleVector acc = DoubleVector.zero(D);
            for (int up = D.loopBound(n); i < up; i += D.length())
                acc = DoubleVector.fromArray(D, a, ao + i).fma(DoubleVector.fromArray(D, b, bo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    // Math.exp for doubles: the float64 twin serves gradient checks, where exactness beats speed.
    @Override
    public void exp(float[] a, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += F.length())
            FloatVector.fromArray(F, a, off + i).lanewise(VectorOperators.EXP).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] = (float) Math.exp(a[off + i]);
    }

    @Override
    public void exp(double[] a, int off, int n) {
        for (int i = off; i < off + n; i++) a[i] = Math.exp(a[i]);
    }
}
