package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;

/**
 * Launcher of cuda-kernels/lstm.cu: the LSTM recurrence, one fused kernel launch per time step (gate GEMV + cell
 * update), backpropagation through time one launch per step newest first (with W_hh transposed once per call),
 * then dW_hh as one GEMM over every step and db_hh as a column sum. Decoding is the forward step on a copy of h.
 */
final class LstmKernels {
    static final String FAMILY = "lstm";
    static final String FORWARD_STEP = "parrot_lstm_forward_step_f32";
    static final String BACKWARD_STEP = "parrot_lstm_backward_step_f32";
    static final String TRANSPOSE = "parrot_lstm_transpose_f32";
    static final String SHIFT_ROWS = "parrot_lstm_shift_rows_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD_STEP, "ppppppppiiiiii",
            BACKWARD_STEP, "pppppppiiii",
            TRANSPOSE, "ppii",
            SHIFT_ROWS, "ppiii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** PARROT_LSTM_WARPS: hidden units (warps) per block, blockDim = (32, 8). */
    static final int WARPS = 8;

    private final Device ctx;
    private final CudaModule module;
    private final PointwiseKernels pointwise;

    LstmKernels(Device ctx, CudaModule module, PointwiseKernels pointwise) {
        this.ctx = ctx;
        this.module = module;
        this.pointwise = pointwise;
    }

    private static Dim3 grid(int hid) {
        return Dim3.of(Dim3.blocks(hid, WARPS));
    }

    private static Dim3 block() {
        return Dim3.of(32, WARPS);
    }

    /** Every step in order: h, c [B·L, H], gates [B·L, 4H] (may be null), from xProj [B·L, 4H]. */
    void forward(CudaTensor h, CudaTensor c, CudaTensor gates, CudaTensor xProj, CudaTensor whh, CudaTensor bhh,
                 int batch, int seqLen, int hid) {
        if (batch == 0 || hid == 0) return;
        for (int t = 0; t < seqLen; t++) {
            boolean first = t == 0;
            ctx.launch(module, FORWARD_STEP, grid(hid), block(), 0,
                    KernelArgs.of().ptr(h).ptr(c).ptr(gates).ptr(xProj).ptr(whh).ptr(bhh).ptr(first ? null : h)
                            .ptr(first ? null : c).i(first ? 0 : (t - 1) * hid).i(seqLen * hid).i(batch).i(seqLen).i(t)
                            .i(hid));
        }
    }

    /** One decoding step: h, c [B, H] in and out (h's old values are copied to scratch first). */
    void step(CudaTensor h, CudaTensor c, CudaTensor xProj, CudaTensor whh, CudaTensor bhh, int batch, int hid) {
        if (batch == 0 || hid == 0) return;
        CUdeviceptr hPrev = ctx.scratch("lstm.hPrev", (long) batch * hid * 4L);
        pointwise.copyColumns(hPrev, hid, 0, h.ptr(), hid, 0, hid, batch, false);
        ctx.launch(module, FORWARD_STEP, grid(hid), block(), 0,
                KernelArgs.of().ptr(h).ptr(c).ptr((CudaTensor) null).ptr(xProj).ptr(whh).ptr(bhh).ptr(hPrev).ptr(c)
                        .i(0).i(hid).i(batch).i(1).i(0).i(hid));
    }

    /**
     * Backpropagation through time: dxProj (may be null) += dG, dwhh += Σ_t dG_tᵀ·h_{t−1} (GEMM), dbhh += Σ dG
     * (column sums); either weight gradient may be null.
     */
    void backward(CudaTensor dxProj, CudaTensor dwhh, CudaTensor dbhh, CudaTensor dh, CudaTensor h, CudaTensor c,
                  CudaTensor gates, CudaTensor whh, int batch, int seqLen, int hid, Gemm gemm, LinearKernels linear) {
        long rows = (long) batch * seqLen;
        if (rows == 0 || hid == 0) return;
        int g4 = 4 * hid;
        CUdeviceptr whhT = ctx.scratch("lstm.whhT", (long) g4 * hid * 4L);
        CUdeviceptr dG = ctx.scratch("lstm.dG", rows * g4 * 4L);
        CUdeviceptr dc = ctx.scratch("lstm.dc", (long) batch * hid * 4L);
        ctx.launch(module, TRANSPOSE, Dim3.of(Dim3.blocks(hid, 32), Dim3.blocks(g4, 32)), Dim3.of(32, 8), 0,
                KernelArgs.of().ptr(whhT).ptr(whh).i(g4).i(hid));
        for (int t = seqLen - 1; t >= 0; t--)
            ctx.launch(module, BACKWARD_STEP, grid(hid), block(), 0,
                    KernelArgs.of().ptr(dG).ptr(dc).ptr(dxProj).ptr(dh).ptr(c).ptr(gates).ptr(whhT).i(batch).i(seqLen)
                            .i(t).i(hid));
        if (dwhh != null && seqLen > 1) {
            CUdeviceptr hPrev = ctx.scratch("lstm.hShift", rows * hid * 4L);
            ctx.launch(module, SHIFT_ROWS, ElementwiseKernels.grid(rows * hid), Dim3.of(ElementwiseKernels.THREADS), 0,
                    KernelArgs.of().ptr(hPrev).ptr(h).i(batch).i(seqLen).i(hid));
            gemm.gemm(true, false, g4, hid, (int) rows, 1f, dG, g4, hPrev, hid, 1f, dwhh.ptr(), hid);
        }
        if (dbhh != null)
            linear.biasGrad(dbhh, new CudaTensor(null, dG, new int[] {(int) rows, g4}, parrot.backend.Tensor.DType.F32),
                    (int) rows, g4);
    }
}
