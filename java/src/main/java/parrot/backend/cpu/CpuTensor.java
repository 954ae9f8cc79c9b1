package parrot.backend.cpu;

import parrot.backend.Tensor;

/** A host array: float data for F32 tensors, ints for I32 (token ids, targets). */
final class CpuTensor implements Tensor {
    final float[] data;
    final int[] ints;
    private final int[] shape;
    private final DType dtype;

    private CpuTensor(float[] data, int[] ints, int[] shape, DType dtype) {
        this.data = data;
        this.ints = ints;
        this.shape = shape.clone();
        this.dtype = dtype;
    }

    static CpuTensor floats(int... shape) {
        return new CpuTensor(new float[count(shape)], null, shape, DType.F32);
    }

    static CpuTensor ints(int... shape) {
        return new CpuTensor(null, new int[count(shape)], shape, DType.I32);
    }

    private static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + java.util.Arrays.toString(shape));
            n *= d;
        }
        return Math.toIntExact(n);
    }

    static float[] f(Tensor t) {
        if (t instanceof CpuTensor c && c.data != null) return c.data;
        throw new IllegalArgumentException("expected a " + DType.F32 + " tensor of this CPU backend, got "
                + (t == null ? "null" : t.getClass().getSimpleName() + " " + Tensor.describe(t)));
    }

    static float[] fOrNull(Tensor t) {
        return t == null ? null : f(t);
    }

    static int[] i(Tensor t) {
        if (t instanceof CpuTensor c && c.ints != null) return c.ints;
        throw new IllegalArgumentException("expected an I32 tensor of this CPU backend, got "
                + (t == null ? "null" : t.getClass().getSimpleName() + " " + Tensor.describe(t)));
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int length() {
        return data != null ? data.length : ints.length;
    }

    /** Leading dims flattened: the row count of a [.., C] activation. */
    int rows() {
        return length() / shape[shape.length - 1];
    }

    int cols() {
        return shape[shape.length - 1];
    }

    @Override
    public String toString() {
        return Tensor.describe(this);
    }
}
