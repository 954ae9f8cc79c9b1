package parrot.backend;

import java.util.Arrays;

/**
 * A handle to an array a {@link Backend} owns. Models hold handles; only the backend touches the elements,
 * so the same model code runs on host arrays and on device memory.
 */
public interface Tensor {
    enum DType { F32, F64, I32 }

    int[] shape();

    DType dtype();

    default long size() {
        long n = 1;
        for (int d : shape()) n *= d;
        return n;
    }

    /** Number of elements as an int; every tensor parrot allocates on the host fits. */
    default int length() {
        return Math.toIntExact(size());
    }

    default int dim(int i) {
        int[] s = shape();
        return s[i < 0 ? s.length + i : i];
    }

    static String describe(Tensor t) {
        return t.dtype() + Arrays.toString(t.shape());
    }
}
