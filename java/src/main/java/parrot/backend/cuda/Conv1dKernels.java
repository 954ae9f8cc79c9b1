package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;

/**
 * Launcher of cuda-kernels/conv1d.cu: causal depthwise conv1d forward, din, the two-pass weight/bias gradient
 * (row segments fixed by the shape alone, so the sums are reproducible), and the rolling-window decoding step.
 */
final class Conv1dKernels {
    static final String FAMILY = "conv1d";
    static final String FORWARD = "parrot_conv1d_forward_f32";
    static final String BACKWARD_DX = "parrot_conv1d_backward_dx_f32";
    static final String BACKWARD_DW_PARTIAL = "parrot_conv1d_backward_dw_partial_f32";
    static final String BACKWARD_DW_FINALIZE = "parrot_conv1d_backward_dw_finalize_f32";
    static final String STEP = "parrot_conv1d_step_f32";
    static final String FILL_STATE = "parrot_conv1d_fill_state_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "ppppiiii",
            BACKWARD_DX, "pppiiii",
            BACKWARD_DW_PARTIAL, "pppiiiii",
            BACKWARD_DW_FINALIZE, "pppiii",
            STEP, "pppppiii",
            FILL_STATE, "ppiiii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** PARROT_CONV_MAX_K: the widest kernel the weight-gradient registers hold. */
    static final int MAX_K = 8;
    /** PARROT_CONV_ROWS: row phases (blockDim.y) of the weight-gradient pass 1. */
    static final int ROWS = 8;
    /** At most this many row segments (grid.y of pass 1); at least this many rows per segment. */
    static final int MAX_SEGMENTS = 64, MIN_SEGMENT_ROWS = 256;

    private final Device ctx;
    private final CudaModule module;

    Conv1dKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    static void checkWidth(int k) {
        if (k < 1 || k > MAX_K)
            throw new IllegalArgumentException("CUDA conv1d: kernel width " + k + " outside 1.." + MAX_K);
    }

    /** Rows per segment of the weight gradient's pass 1: a function of the row count alone. */
    static int rowsPerSegment(long rows) {
        int segments = (int) Math.max(1, Math.min(MAX_SEGMENTS, rows / MIN_SEGMENT_ROWS));
        return (int) Math.max(1, (rows + segments - 1) / segments);
    }

    void forward(CudaTensor out, CudaTensor in, CudaTensor weight, CudaTensor bias, int batch, int seqLen, int c,
                 int k) {
        long n = (long) batch * seqLen * c;
        if (n == 0) return;
        ctx.launch(module, FORWARD, ElementwiseKernels.grid(n), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(out).ptr(in).ptr(weight).ptr(bias).i(batch).i(seqLen).i(c).i(k));
    }

    void backward(CudaTensor din, CudaTensor dweight, CudaTensor dbias, CudaTensor dout, CudaTensor in,
                  CudaTensor weight, int batch, int seqLen, int c, int k) {
        long rows = (long) batch * seqLen;
        if (rows == 0 || c == 0) return;
        if (din != null)
            ctx.launch(module, BACKWARD_DX, ElementwiseKernels.grid(rows * c), Dim3.of(ElementwiseKernels.THREADS), 0,
                    KernelArgs.of().ptr(din).ptr(dout).ptr(weight).i(batch).i(seqLen).i(c).i(k));
        if (dweight == null && dbias == null) return;
        int perSeg = rowsPerSegment(rows);
        int segments = (int) ((rows + perSeg - 1) / perSeg);
        CUdeviceptr partial = ctx.scratch("conv1d.partial", (long) segments * c * (k + 1) * 4L);
        ctx.launch(module, BACKWARD_DW_PARTIAL, Dim3.of(Dim3.blocks(c, 32), segments), Dim3.of(32, ROWS), 0,
                KernelArgs.of().ptr(partial).ptr(dout).ptr(in).i(batch).i(seqLen).i(c).i(k).i(perSeg));
        ctx.launch(module, BACKWARD_DW_FINALIZE, ElementwiseKernels.grid((long) c * (k + 1)),
                Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(dweight).ptr(dbias).ptr(partial).i(segments).i(c).i(k));
    }

    void step(CudaTensor out, CudaTensor state, CudaTensor in, CudaTensor weight, CudaTensor bias, int batch, int c,
              int k) {
        long n = (long) batch * c;
        if (n == 0) return;
        ctx.launch(module, STEP, ElementwiseKernels.grid(n), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(out).ptr(state).ptr(in).ptr(weight).ptr(bias).i(batch).i(c).i(k));
    }

    void fillState(CudaTensor state, CudaTensor in, int batch, int seqLen, int c, int k) {
        long n = (long) batch * c * (k - 1);
        if (n == 0) return;
        ctx.launch(module, FILL_STATE, ElementwiseKernels.grid(n), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(state).ptr(in).i(batch).i(seqLen).i(c).i(k));
    }
}
