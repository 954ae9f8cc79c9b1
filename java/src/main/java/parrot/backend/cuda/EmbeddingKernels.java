package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Launcher of cuda-kernels/embedding.cu. */
final class EmbeddingKernels {
    static final String FAMILY = "embedding";
    static final String FORWARD = "parrot_embedding_forward_f32";
    static final String BACKWARD = "parrot_embedding_backward_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "pppiii",
            BACKWARD, "pppiiii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    static final int THREADS = 128;
    /** The backward splits the vocabulary into at most this many slices (grid.y). */
    static final int MAX_VOCAB_SLICES = 64;

    private final Device ctx;
    private final CudaModule module;

    EmbeddingKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** out [N, C] = table [V, C] rows picked by tokens [N]. */
    void forward(CudaTensor out, CudaTensor tokens, CudaTensor table, int n, int c, int v) {
        if (n == 0) return;
        ctx.launch(module, FORWARD, Dim3.of(n), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(out).ptr(tokens).ptr(table).i(n).i(c).i(v));
    }

    /** dtable [V, C] += scatter of dout [N, C] by tokens, deterministic (no atomics). */
    void backward(CudaTensor dtable, CudaTensor dout, CudaTensor tokens, int n, int c, int v) {
        if (n == 0 || c == 0 || v == 0) return;
        int slices = Math.min(v, MAX_VOCAB_SLICES);
        int slice = (v + slices - 1) / slices;
        int gridY = (v + slice - 1) / slice;
        ctx.launch(module, BACKWARD, Dim3.of(Dim3.blocks(c, THREADS), gridY), Dim3.of(THREADS), 0,
                KernelArgs.of().ptr(dtable).ptr(dout).ptr(tokens).i(n).i(c).i(v).i(slice));
    }
}
