package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;

/** Launcher of cuda-kernels/pointwise.cu: SiLU, −exp, column-block copies (the Mamba block's small ops). */
final class PointwiseKernels {
    static final String FAMILY = "pointwise";
    static final String SILU_FORWARD = "parrot_silu_forward_f32";
    static final String SILU_BACKWARD = "parrot_silu_backward_f32";
    static final String NEGEXP_FORWARD = "parrot_negexp_forward_f32";
    static final String NEGEXP_BACKWARD = "parrot_negexp_backward_f32";
    static final String COPY_COLUMNS = "parrot_copy_columns_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            SILU_FORWARD, "ppi",
            SILU_BACKWARD, "pppi",
            NEGEXP_FORWARD, "ppi",
            NEGEXP_BACKWARD, "pppi",
            COPY_COLUMNS, "piipiiiii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    private final Device ctx;
    private final CudaModule module;

    PointwiseKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    private void run(String kernel, long n, KernelArgs args) {
        if (n == 0) return;
        ctx.launch(module, kernel, ElementwiseKernels.grid(n), Dim3.of(ElementwiseKernels.THREADS), 0, args);
    }

    void siluForward(CudaTensor out, CudaTensor in) {
        int n = in.length();
        run(SILU_FORWARD, n, KernelArgs.of().ptr(out).ptr(in).i(n));
    }

    void siluBackward(CudaTensor din, CudaTensor dout, CudaTensor in) {
        int n = in.length();
        run(SILU_BACKWARD, n, KernelArgs.of().ptr(din).ptr(dout).ptr(in).i(n));
    }

    void negExpForward(CudaTensor out, CudaTensor in) {
        int n = in.length();
        run(NEGEXP_FORWARD, n, KernelArgs.of().ptr(out).ptr(in).i(n));
    }

    void negExpBackward(CudaTensor din, CudaTensor dout, CudaTensor out) {
        int n = out.length();
        run(NEGEXP_BACKWARD, n, KernelArgs.of().ptr(din).ptr(dout).ptr(out).i(n));
    }

    /** dst[r, dstCol + j] (+)= src[r, srcCol + j], j < width, r < rows. */
    void copyColumns(CUdeviceptr dst, int dstCols, int dstCol, CUdeviceptr src, int srcCols, int srcCol, int width,
                     int rows, boolean accumulate) {
        run(COPY_COLUMNS, (long) rows * width, KernelArgs.of().ptr(dst).i(dstCols).i(dstCol).ptr(src).i(srcCols)
                .i(srcCol).i(width).i(rows).i(accumulate ? 1 : 0));
    }
}
