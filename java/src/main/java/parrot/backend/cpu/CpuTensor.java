package parrot.backend.cpu;

import parrot.backend.Tensor;
import parrot.backend.cpu.common.Parallel;

/** A host array: float data for F32 tensors, ints for I32 (token ids, targets). */
final class CpuTensor implements Tensor {
    final float[] data;
    final int[] ints;
    private final int[] shape;
    private final DType dtype;
    /**
     * Set by {@link CpuBackend#zero}, which defers its fill: a backward step zeroes ~10–16 MB of gradient buffers
     * that the next op accumulates into, and a separate pass over them ran from memory at about 18 GB/s (0.9 ms of
     * the transformer's step, 1.5 ms of Mamba's). An op that writes every element takes the fill over with
     * {@link #claimZero} and zeroes each part in the worker that writes it, just before, while its lines are in
     * cache; the sums start from the same zeros, so the bits do not change. Any other use fills first ({@link #f}).
     */
    private boolean zeroPending;

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

    /** Zeroes this float tensor now or, where ops run on CpuBackend, at its first use (see zeroPending). */
    void zeroLater() {
        zeroPending = true;
    }

    /**
     * True if dst is a float tensor of this backend whose deferred zero fill is still pending and is not also one
     * of the op's inputs: the caller must then zero every element of dst before it accumulates into it (each part in
     * the worker that writes it). False leaves dst as it was; f(dst) then fills it as usual.
     */
    static boolean claimZero(Tensor dst, Tensor... inputs) {
        return dst != null && claimZeroAll(new Tensor[]{dst}, inputs);
    }

    /**
     * claimZero for several outputs at once, all or none: true if every non-null one of dsts is pending and none
     * is an input (nor given twice). With no non-null output there is nothing to fill, and it returns true.
     */
    static boolean claimZeroAll(Tensor[] dsts, Tensor... inputs) {
        for (int k = 0; k < dsts.length; k++) {
            if (dsts[k] == null) continue;
            if (!(dsts[k] instanceof CpuTensor c) || !c.zeroPending) return false;
            for (Tensor in : inputs) if (in == c) return false;
            for (int j = 0; j < k; j++) if (dsts[j] == c) return false;
        }
        for (Tensor t : dsts) if (t != null) ((CpuTensor) t).zeroPending = false;
        return true;
    }

    static float[] f(Tensor t) {
        if (t instanceof CpuTensor c && c.data != null) {
            if (c.zeroPending) c.fillZero();
            return c.data;
        }
        throw new IllegalArgumentException("expected a " + DType.F32 + " tensor of this CPU backend, got "
                + (t == null ? "null" : t.getClass().getSimpleName() + " " + Tensor.describe(t)));
    }

    private void fillZero() {
        // Chunks of 2^18 floats (1 MB): below ~2 MB one thread's fill beat the fork and join (131k floats: 7.7
        // against 12.2 us).
        float[] d = data;
        Parallel.forRange(d.length, 1 << 18, (lo, hi) -> java.util.Arrays.fill(d, lo, hi, 0f));
        zeroPending = false;
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
