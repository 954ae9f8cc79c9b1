package parrot.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * The arguments of one kernel launch, in the order of the kernel's parameters. Each adder must match the C type
 * of its parameter exactly: {@link #ptr} for pointers, {@link #i} int, {@link #f} float, {@link #d} double,
 * {@link #words} a by-value struct of 4-byte words (e.g. {@code HeadParams}).
 */
final class KernelArgs {
    private static final CUdeviceptr NULL = new CUdeviceptr();
    private final List<Pointer> args = new ArrayList<>();
    private final StringBuilder signature = new StringBuilder();

    static KernelArgs of() {
        return new KernelArgs();
    }

    /** A device pointer; null passes a null pointer (an optional input or output the kernel skips). */
    KernelArgs ptr(CudaTensor t) {
        args.add(Pointer.to(t == null ? NULL : t.ptr()));
        signature.append('p');
        return this;
    }

    KernelArgs ptr(CUdeviceptr p) {
        args.add(Pointer.to(p == null ? NULL : p));
        signature.append('p');
        return this;
    }

    KernelArgs i(int v) {
        args.add(Pointer.to(new int[] {v}));
        signature.append('i');
        return this;
    }

    KernelArgs f(float v) {
        args.add(Pointer.to(new float[] {v}));
        signature.append('f');
        return this;
    }

    KernelArgs d(double v) {
        args.add(Pointer.to(new double[] {v}));
        signature.append('d');
        return this;
    }

    KernelArgs words(int[] struct) {
        args.add(Pointer.to(struct.clone()));
        signature.append('s');
        return this;
    }

    /** One letter per argument: p, i, f, d, s (as in KernelFamilies.signature). */
    String signature() {
        return signature.toString();
    }

    Pointer toPointer() {
        return Pointer.to(args.toArray(new Pointer[0]));
    }
}
