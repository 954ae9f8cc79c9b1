package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Launcher of cuda-kernels/rmsnorm.cu: warp-per-row forward and dx, column-reduction dweight. */
final class RmsNormKernels {
    static final String FAMILY = "rmsnorm";
    static final String FORWARD = "parrot_rmsnorm_forward_f32";
    static final String BACKWARD_DX = "parrot_rmsnorm_backward_dx_f32";
    static final String BACKWARD_DW = "parrot_rmsnorm_backward_dw_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "ppppiif",
            BACKWARD_DX, "pppppii",
            BACKWARD_DW, "ppppii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** Rows (warps) per block of the warp-per-row kernels. */
    static final int ROWS_PER_BLOCK = 4;
    /** PARROT_RMS_COLS_ROWS in rmsnorm.cu: blockDim = (32, 8) for dweight. */
    static final int COL_ROWS = 8;

    private final Device ctx;
    private final CudaModule module;

    RmsNormKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    void forward(CudaTensor out, CudaTensor rstd, CudaTensor in, CudaTensor weight, int n, int c, float eps) {
        if (n == 0) return;
        ctx.launch(module, FORWARD, Dim3.of(Dim3.blocks(n, ROWS_PER_BLOCK)), Dim3.of(32, ROWS_PER_BLOCK), 0,
                KernelArgs.of().ptr(out).ptr(rstd).ptr(in).ptr(weight).i(n).i(c).f(eps));
    }

    void backward(CudaTensor din, CudaTensor dweight, CudaTensor dout, CudaTensor in, CudaTensor weight,
                  CudaTensor rstd, int n, int c) {
        if (n == 0 || c == 0) return;
        if (din != null)
            ctx.launch(module, BACKWARD_DX, Dim3.of(Dim3.blocks(n, ROWS_PER_BLOCK)), Dim3.of(32, ROWS_PER_BLOCK), 0,
                    KernelArgs.of().ptr(din).ptr(dout).ptr(in).ptr(weight).ptr(rstd).i(n).i(c));
        if (dweight != null)
            ctx.launch(module, BACKWARD_DW, Dim3.of(Dim3.blocks(c, 32)), Dim3.of(32, COL_ROWS), 0,
                    KernelArgs.of().ptr(dweight).ptr(dout).ptr(in).ptr(rstd).i(n).i(c));
    }
}
