package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/** Launcher of cuda-kernels/elementwise.cu: add, accumulate, scale, fill, GELU, deterministic sums. */
final class ElementwiseKernels {
    static final String FAMILY = "elementwise";
    static final String ADD = "parrot_add_f32";
    static final String ACCUMULATE = "parrot_accumulate_f32";
    static final String SCALE = "parrot_scale_f32";
    static final String FILL = "parrot_fill_f32";
    static final String GELU_FORWARD = "parrot_gelu_forward_f32";
    static final String GELU_BACKWARD = "parrot_gelu_backward_f32";
    static final String SUM_SQUARES_PARTIAL = "parrot_sum_squares_partial_f32";
    static final String SUM_PARTIAL_F64 = "parrot_sum_partial_f64";
    static final String SUM_FINALIZE = "parrot_sum_finalize_f64";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            ADD, "pppi",
            ACCUMULATE, "ppi",
            SCALE, "pfi",
            FILL, "pfi",
            GELU_FORWARD, "ppi",
            GELU_BACKWARD, "pppi",
            SUM_SQUARES_PARTIAL, "ppi",
            SUM_PARTIAL_F64, "ppi",
            SUM_FINALIZE, "ppi");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    static final int THREADS = 256;
    /** Grid-stride kernels use at most this many blocks. */
    static final int MAX_BLOCKS = 8192;
    /** PARROT_SUM_THREADS in elementwise.cu; the partial-sum grid depends on n alone (determinism). */
    static final int SUM_THREADS = 256;
    static final int SUM_MAX_BLOCKS = 1024;

    private final Device ctx;
    private final CudaModule module;

    ElementwiseKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** Grid for a grid-stride loop over n elements with {@link #THREADS} threads a block. */
    static Dim3 grid(long n) {
        return Dim3.of(Math.min(MAX_BLOCKS, Dim3.blocks(n, THREADS)));
    }

    private void run(String kernel, long n, KernelArgs args) {
        if (n == 0) return;
        ctx.launch(module, kernel, grid(n), Dim3.of(THREADS), 0, args);
    }

    void add(CudaTensor out, CudaTensor a, CudaTensor b) {
        int n = out.length();
        run(ADD, n, KernelArgs.of().ptr(out).ptr(a).ptr(b).i(n));
    }

    void accumulate(CudaTensor dst, CudaTensor src) {
        int n = dst.length();
        run(ACCUMULATE, n, KernelArgs.of().ptr(dst).ptr(src).i(n));
    }

    void scale(CudaTensor t, float s) {
        int n = t.length();
        run(SCALE, n, KernelArgs.of().ptr(t).f(s).i(n));
    }

    void fill(CudaTensor t, float v) {
        int n = t.length();
        run(FILL, n, KernelArgs.of().ptr(t).f(v).i(n));
    }

    void geluForward(CudaTensor out, CudaTensor in) {
        int n = out.length();
        run(GELU_FORWARD, n, KernelArgs.of().ptr(out).ptr(in).i(n));
    }

    void geluBackward(CudaTensor din, CudaTensor dout, CudaTensor in) {
        int n = din.length();
        run(GELU_BACKWARD, n, KernelArgs.of().ptr(din).ptr(dout).ptr(in).i(n));
    }

    /** Number of partial sums (pass-1 blocks) for n elements: a function of n only. */
    static int sumBlocks(long n) {
        return Math.min(SUM_MAX_BLOCKS, Dim3.blocks(n, SUM_THREADS));
    }

    /** Σ t² in double, in a fixed order: bitwise reproducible. Copies back one scalar. */
    double sumSquares(CudaTensor t) {
        int n = t.length();
        if (n == 0) return 0.0;
        int blocks = sumBlocks(n);
        CUdeviceptr partials = ctx.scratch("sum.partials", (long) SUM_MAX_BLOCKS * 8);
        ctx.launch(module, SUM_SQUARES_PARTIAL, Dim3.of(blocks), Dim3.of(SUM_THREADS), 0,
                KernelArgs.of().ptr(partials).ptr(t).i(n));
        return finish(partials, blocks);
    }

    /** Σ x[0..n) of a device double array, in a fixed order. Copies back one scalar. */
    double sumDoubles(CUdeviceptr x, int n) {
        if (n == 0) return 0.0;
        int blocks = sumBlocks(n);
        CUdeviceptr partials = ctx.scratch("sum.partials", (long) SUM_MAX_BLOCKS * 8);
        ctx.launch(module, SUM_PARTIAL_F64, Dim3.of(blocks), Dim3.of(SUM_THREADS), 0,
                KernelArgs.of().ptr(partials).ptr(x).i(n));
        return finish(partials, blocks);
    }

    private double finish(CUdeviceptr partials, int blocks) {
        CUdeviceptr result = ctx.scratch("sum.result", 8);
        ctx.launch(module, SUM_FINALIZE, Dim3.of(1), Dim3.of(SUM_THREADS), 0,
                KernelArgs.of().ptr(result).ptr(partials).i(blocks));
        double[] r = new double[1];
        ctx.download(Pointer.to(r), result, 8);
        return r[0];
    }
}
