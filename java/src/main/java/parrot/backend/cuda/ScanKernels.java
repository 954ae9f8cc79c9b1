package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;

/**
 * Launcher of cuda-kernels/scan.cu: Mamba's selective scan, forward (saves the state entering every chunk of
 * {@link #CHUNK} steps, the CPU's checkpoint layout), backward (recomputes from those states; per-block partials,
 * then two order-fixed reduce kernels) and the one-token decoding step. The Java model of the kernels' chunking is
 * parrot.backend.cpu.ScanChunking; the reference, parrot.backend.cpu.Scan.
 */
final class ScanKernels {
    static final String FAMILY = "scan";
    static final String FORWARD = "parrot_scan_forward_f32";
    static final String BACKWARD = "parrot_scan_backward_f32";
    static final String REDUCE_BC = "parrot_scan_reduce_bc_f32";
    static final String REDUCE_PARAMS = "parrot_scan_reduce_params_f32";
    static final String STEP = "parrot_scan_step_f32";
    static final String PREFILL = "parrot_scan_prefill_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "ppppppppppiiiii",
            BACKWARD, "ppppppppppppppppppiiiii",
            REDUCE_BC, "ppppiii",
            REDUCE_PARAMS, "ppppppiii",
            STEP, "ppppppppppiiii",
            PREFILL, "ppppppppppiiiii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** PARROT_SCAN_CHUNK: steps between saved states; CudaBackend.scanChunkLength(). */
    static final int CHUNK = 64;
    /** PARROT_SCAN_LANES (channels per block) and PARROT_SCAN_WARPS (time segments per chunk). */
    static final int LANES = 32, WARPS = 8;
    /** PARROT_SCAN_MAX_STATE: the largest d_state the shared tiles hold. */
    static final int MAX_STATE = 64;

    private final Device ctx;
    private final CudaModule module;

    ScanKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    /** The kernels' limits, checked before any launch. */
    static void checkShape(int batch, int seqLen, int d, int n) {
        if (n < 1 || n > MAX_STATE)
            throw new IllegalArgumentException("CUDA selective scan: d_state " + n + " outside 1.." + MAX_STATE);
        if (batch > 65535) throw new IllegalArgumentException("CUDA selective scan: batch " + batch + " > 65535 (grid.y)");
    }

    private static Dim3 grid(int batch, int d) {
        return Dim3.of(Dim3.blocks(d, LANES), batch);
    }

    private static int bool(boolean b) {
        return b ? 1 : 0;
    }

    void forward(CudaTensor out, CudaTensor ckpt, CudaTensor u, CudaTensor delta, CudaTensor a, CudaTensor b,
                 CudaTensor c, CudaTensor dSkip, CudaTensor z, CudaTensor deltaBias, boolean softplus, int batch,
                 int seqLen, int d, int n) {
        if (batch == 0 || seqLen == 0 || d == 0) return;
        ctx.launch(module, FORWARD, grid(batch, d), Dim3.of(LANES, WARPS), 0,
                KernelArgs.of().ptr(out).ptr(ckpt).ptr(u).ptr(delta).ptr(a).ptr(b).ptr(c).ptr(dSkip).ptr(z)
                        .ptr(deltaBias).i(bool(softplus)).i(batch).i(seqLen).i(d).i(n));
    }

    /**
     * Accumulates the gradients (any may be null). The shared-parameter gradients pass through scratch partials:
     * dB, dC per 32-channel block [D/32, B·L, N]; dA per (sequence, segment) [B, 8, N, D]; D and delta_bias
     * [B, 8, D]; the reduce kernels add them in a fixed order.
     */
    void backward(CudaTensor du, CudaTensor ddelta, CudaTensor da, CudaTensor db, CudaTensor dc, CudaTensor dDSkip,
                  CudaTensor dz, CudaTensor dDeltaBias, CudaTensor dout, CudaTensor ckpt, CudaTensor u, CudaTensor delta,
                  CudaTensor a, CudaTensor b, CudaTensor c, CudaTensor dSkip, CudaTensor z, CudaTensor deltaBias,
                  boolean softplus, int batch, int seqLen, int d, int n) {
        if (batch == 0 || seqLen == 0 || d == 0) return;
        int blocks = Dim3.blocks(d, LANES);
        long rows = (long) batch * seqLen;
        CUdeviceptr pB = db == null ? null : ctx.scratch("scan.pB", blocks * rows * n * 4L);
        CUdeviceptr pC = dc == null ? null : ctx.scratch("scan.pC", blocks * rows * n * 4L);
        CUdeviceptr pA = da == null ? null : ctx.scratch("scan.pA", (long) batch * WARPS * n * d * 4L);
        CUdeviceptr pD = dDSkip == null ? null : ctx.scratch("scan.pD", (long) batch * WARPS * d * 4L);
        CUdeviceptr pBias = dDeltaBias == null ? null : ctx.scratch("scan.pBias", (long) batch * WARPS * d * 4L);
        ctx.launch(module, BACKWARD, grid(batch, d), Dim3.of(LANES, WARPS), 0,
                KernelArgs.of().ptr(du).ptr(ddelta).ptr(dz).ptr(pB).ptr(pC).ptr(pA).ptr(pD).ptr(pBias).ptr(dout)
                        .ptr(ckpt).ptr(u).ptr(delta).ptr(a).ptr(b).ptr(c).ptr(dSkip).ptr(z).ptr(deltaBias)
                        .i(bool(softplus)).i(batch).i(seqLen).i(d).i(n));
        if (db != null || dc != null)
            ctx.launch(module, REDUCE_BC, ElementwiseKernels.grid(rows * n), Dim3.of(ElementwiseKernels.THREADS), 0,
                    KernelArgs.of().ptr(db).ptr(dc).ptr(pB).ptr(pC).i(blocks).i((int) rows).i(n));
        if (da != null || dDSkip != null || dDeltaBias != null)
            ctx.launch(module, REDUCE_PARAMS, ElementwiseKernels.grid((long) d * n), Dim3.of(ElementwiseKernels.THREADS),
                    0, KernelArgs.of().ptr(da).ptr(dDSkip).ptr(dDeltaBias).ptr(pA).ptr(pD).ptr(pBias).i(batch).i(d).i(n));
    }

    void step(CudaTensor out, CudaTensor state, CudaTensor u, CudaTensor delta, CudaTensor a, CudaTensor b,
              CudaTensor c, CudaTensor dSkip, CudaTensor z, CudaTensor deltaBias, boolean softplus, int batch, int d,
              int n) {
        long count = (long) batch * d;
        if (count == 0) return;
        ctx.launch(module, STEP, ElementwiseKernels.grid(count), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(out).ptr(state).ptr(u).ptr(delta).ptr(a).ptr(b).ptr(c).ptr(dSkip).ptr(z)
                        .ptr(deltaBias).i(bool(softplus)).i(batch).i(d).i(n));
    }

    void prefill(CudaTensor out, CudaTensor state, CudaTensor u, CudaTensor delta, CudaTensor a, CudaTensor b,
                 CudaTensor c, CudaTensor dSkip, CudaTensor z, CudaTensor deltaBias, boolean softplus, int batch,
                 int seqLen, int d, int n) {
        long count = (long) batch * d;
        if (count == 0 || seqLen == 0) return;
        ctx.launch(module, PREFILL, ElementwiseKernels.grid(count), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(out).ptr(state).ptr(u).ptr(delta).ptr(a).ptr(b).ptr(c).ptr(dSkip).ptr(z)
                        .ptr(deltaBias).i(bool(softplus)).i(batch).i(seqLen).i(d).i(n));
    }
}
