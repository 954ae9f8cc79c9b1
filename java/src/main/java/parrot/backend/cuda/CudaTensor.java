package parrot.backend.cuda;

import java.util.Arrays;

import jcuda.driver.CUdeviceptr;
import parrot.backend.Tensor;

/** A device array owned by one {@link CudaBackend}: float32 (F32) or int32 (I32), row-major. */
public final class CudaTensor implements Tensor {
    private final CudaBackend owner;
    private final CUdeviceptr ptr;
    private final int[] shape;
    private final DType dtype;
    private final long size;
    private boolean released;

    CudaTensor(CudaBackend owner, CUdeviceptr ptr, int[] shape, DType dtype) {
        this.owner = owner;
        this.ptr = ptr;
        this.shape = shape.clone();
        this.dtype = dtype;
        long n = 1;
        for (int d : shape) n *= d;
        this.size = n;
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
    public long size() {
        return size;
    }

    /** Bytes of the elements (4 per element for both dtypes). */
    long bytes() {
        return size * 4L;
    }

    CUdeviceptr ptr() {
        if (released) throw new IllegalStateException("CUDA tensor " + this + " used after release");
        return ptr;
    }

    CudaBackend owner() {
        return owner;
    }

    boolean released() {
        return released;
    }

    void markReleased() {
        released = true;
    }

    @Override
    public String toString() {
        return "cuda " + dtype + Arrays.toString(shape) + (released ? " (released)" : "");
    }
}
