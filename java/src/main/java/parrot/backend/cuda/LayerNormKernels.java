package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Launcher of cuda-kernels/layernorm.cu. */
final class LayerNormKernels {
    static final String FAMILY = "layernorm";
    static final String FORWARD = "parrot_layernorm_forward_f32";
    static final String BACKWARD_DX = "parrot_layernorm_backward_dx_f32";
    static final String BACKWARD_DWDB = "parrot_layernorm_backward_dwdb_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "ppppppiif",
            BACKWARD_DX, "ppppppii",
            BACKWARD_DWDB, "ppppppii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** Rows (warps) per block of the warp-per-row kernels. */
    static final int ROWS_PER_BLOCK = 4;
    /** PARROT_COLS_ROWS in layernorm.cu: blockDim = (32, 8) for the parameter gradients. */
    static final int COL_ROWS = 8;

    private final Device ctx;
    private final CudaModule module;

    LayerNormKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    void forward(CudaTensor out, CudaTensor mean, CudaTensor rstd, CudaTensor in, CudaTensor weight,
                 CudaTensor bias, int n, int c, float eps) {
        if (n == 0) return;
        ctx.launch(module, FORWARD, Dim3.of(Dim3.blocks(n, ROWS_PER_BLOCK)), Dim3.of(32, ROWS_PER_BLOCK), 0,
                KernelArgs.of().ptr(out).ptr(mean).ptr(rstd).ptr(in).ptr(weight).ptr(bias).i(n).i(c).f(eps));
    }

    void backward(CudaTensor din, CudaTensor dweight, CudaTensor dbias, CudaTensor dout, CudaTensor in,
                  CudaTensor weight, CudaTensor mean, CudaTensor rstd, int n, int c) {
        if (n == 0 || c == 0) return;
        if (din != null)
            ctx.launch(module, BACKWARD_DX, Dim3.of(Dim3.blocks(n, ROWS_PER_BLOCK)), Dim3.of(32, ROWS_PER_BLOCK), 0,
                    KernelArgs.of().ptr(din).ptr(dout).ptr(in).ptr(weight).ptr(mean).ptr(rstd).i(n).i(c));
        if (dweight != null || dbias != null)
            ctx.launch(module, BACKWARD_DWDB, Dim3.of(Dim3.blocks(c, 32)), Dim3.of(32, COL_ROWS), 0,
                    KernelArgs.of().ptr(dweight).ptr(dbias).ptr(dout).ptr(in).ptr(mean).ptr(rstd).i(n).i(c));
    }
}
