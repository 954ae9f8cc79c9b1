package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import parrot.backend.AdamWParams;

/** Launcher of cuda-kernels/optimizer.cu: AdamW (torch.optim.AdamW semantics). */
final class OptimizerKernels {
    static final String FAMILY = "optimizer";
    static final String ADAMW = "parrot_adamw_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            ADAMW, "ppppiffffff");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    private final Device ctx;
    private final CudaModule module;

    OptimizerKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** Step constants in double on the host, as torch does: decay, lr/(1−β1^t), √(1−β2^t). */
    void adamw(CudaTensor param, CudaTensor grad, CudaTensor m, CudaTensor v, AdamWParams hp, double weightDecay,
               int step, double lr) {
        int n = param.length();
        if (n == 0) return;
        double bc1 = 1.0 - Math.pow(hp.beta1(), step);
        double bc2 = 1.0 - Math.pow(hp.beta2(), step);
        ctx.launch(module, ADAMW, ElementwiseKernels.grid(n), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(param).ptr(grad).ptr(m).ptr(v).i(n).f((float) (1.0 - lr * weightDecay))
                        .f((float) hp.beta1()).f((float) hp.beta2()).f((float) hp.eps()).f((float) (lr / bc1))
                        .f((float) Math.sqrt(bc2)));
    }
}
