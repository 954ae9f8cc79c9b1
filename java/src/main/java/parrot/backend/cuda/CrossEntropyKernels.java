package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;

/** Launcher of cuda-kernels/crossentropy.cu: masked softmax cross-entropy and argmax. */
final class CrossEntropyKernels {
    static final String FAMILY = "crossentropy";
    static final String CROSS_ENTROPY = "parrot_cross_entropy_f32";
    static final String ARGMAX = "parrot_argmax_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            CROSS_ENTROPY, "ppppiif",
            ARGMAX, "ppii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    static final int THREADS = 256;

    private final Device ctx;
    private final CudaModule module;
    private final ElementwiseKernels sums;

    CrossEntropyKernels(Device ctx, CudaModule module, ElementwiseKernels sums) {
        this.ctx = ctx;
        this.module = module;
        this.sums = sums;
    }

    /** Per-row losses into a device buffer, dlogits written when not null, then one deterministic sum copied back. */
    double crossEntropy(CudaTensor dlogits, CudaTensor logits, CudaTensor targets, int n, int v, float gradScale) {
        if (n == 0) return 0.0;
        CUdeviceptr rowLoss = ctx.scratch("crossentropy.rowLoss", (long) n * 8);
        ctx.launch(module, CROSS_ENTROPY, Dim3.of(n), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(rowLoss).ptr(dlogits).ptr(logits).ptr(targets).i(n).i(v).f(gradScale));
        return sums.sumDoubles(rowLoss, n);
    }

    void argmax(CudaTensor out, CudaTensor logits, int n, int v) {
        if (n == 0) return;
        ctx.launch(module, ARGMAX, Dim3.of(n), Dim3.of(THREADS), 0, KernelArgs.of().ptr(out).ptr(logits).i(n).i(v));
    }
}
