package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;

/** Launcher of cuda-kernels/linear.cu: bias add, bias gradient, and the built-in tiled GEMM. */
final class LinearKernels {
    static final String FAMILY = "linear";
    static final String BIAS_ADD = "parrot_bias_add_f32";
    static final String BIAS_GRAD = "parrot_bias_grad_f32";
    static final String GEMM = "parrot_gemm_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            BIAS_ADD, "ppii",
            BIAS_GRAD, "ppii",
            GEMM, "pppiiiiiiiiff");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** GEMM_BM, GEMM_BN, GEMM_THREADS in linear.cu. */
    static final int GEMM_TILE = 64;
    static final int GEMM_THREADS = 256;
    /** PARROT_COLS_ROWS in linear.cu: blockDim = (32, 8) for column reductions. */
    static final int COL_ROWS = 8;

    private final Device ctx;
    private final CudaModule module;

    LinearKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** out [N, O] += bias [O] broadcast over rows. */
    void biasAdd(CudaTensor out, CudaTensor bias, int n, int o) {
        long total = (long) n * o;
        if (total == 0) return;
        ctx.launch(module, BIAS_ADD, ElementwiseKernels.grid(total), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(out).ptr(bias).i(n).i(o));
    }

    /** dbias [O] += column sums of dout [N, O], deterministic. */
    void biasGrad(CudaTensor dbias, CudaTensor dout, int n, int o) {
        if (o == 0) return;
        ctx.launch(module, BIAS_GRAD, Dim3.of(Dim3.blocks(o, 32)), Dim3.of(32, COL_ROWS), 0,
                KernelArgs.of().ptr(dbias).ptr(dout).i(n).i(o));
    }

    /** The built-in GEMM: linear.cu's 64×64-tiled FP32 kernel. */
    Gemm builtinGemm() {
        return new Gemm() {
            @Override
            public String name() {
                return "builtin";
            }

            @Override
            public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CUdeviceptr a,
                             int lda, CUdeviceptr b, int ldb, float beta, CUdeviceptr c, int ldc) {
                int gridY = Dim3.blocks(m, GEMM_TILE);
                if (gridY > 65535)
                    throw new IllegalArgumentException("built-in GEMM: M=" + m + " rows exceeds the grid limit");
                ctx.launch(module, GEMM, Dim3.of(Dim3.blocks(n, GEMM_TILE), gridY),
                        Dim3.of(GEMM_THREADS), 0,
                        KernelArgs.of().ptr(c).ptr(a).ptr(b).i(m).i(n).i(k).i(lda).i(ldb).i(ldc)
                                .i(transA ? 1 : 0).i(transB ? 1 : 0).f(alpha).f(beta));
            }
        };
    }
}
