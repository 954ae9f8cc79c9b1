package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import parrot.backend.RopeSpec;

/** Launcher of cuda-kernels/rope.cu (GPT-NeoX rotate_half rotary embedding on fused qkv rows). */
final class RopeKernels {
    static final String FAMILY = "rope";
    static final String FORWARD = "parrot_rope_forward_f32";
    static final String BACKWARD = "parrot_rope_backward_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "ppiiiiiid",
            BACKWARD, "ppiiiiiid");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    private final Device ctx;
    private final CudaModule module;

    RopeKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    void forward(CudaTensor out, CudaTensor qkv, RopeSpec spec, int batch, int seqLen, int posOffset) {
        launch(FORWARD, out, qkv, spec, batch, seqLen, posOffset);
    }

    void backward(CudaTensor dqkv, CudaTensor dout, RopeSpec spec, int batch, int seqLen, int posOffset) {
        launch(BACKWARD, dqkv, dout, spec, batch, seqLen, posOffset);
    }

    private void launch(String kernel, CudaTensor dst, CudaTensor src, RopeSpec spec, int batch, int seqLen,
                        int posOffset) {
        int rows = batch * seqLen;
        long total = (long) rows * 3 * spec.heads() * spec.headDim();
        if (total == 0) return;
        ctx.launch(module, kernel, ElementwiseKernels.grid(total), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(dst).ptr(src).i(rows).i(seqLen).i(spec.heads()).i(spec.headDim())
                        .i(spec.rotaryDims()).i(posOffset).d(spec.base()));
    }
}
