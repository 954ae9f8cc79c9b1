package parrot.backend.cuda;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;
import parrot.backend.AttentionSpec;

/**
 * Launcher of cuda-kernels/attention.cu: causal attention with per-head windows and ALiBi slopes (forward saving
 * lse, backward with the rowsum(dO∘O) pre-pass, one decoding step against the KV cache). The per-head window and
 * slope travel by value as the kernels' {@code HeadParams} argument, so no upload is needed per call.
 */
final class AttentionKernels {
    static final String FAMILY = "attention";
    static final String FORWARD = "parrot_attention_forward_f32";
    static final String BACKWARD_PRE = "parrot_attention_backward_pre_f32";
    static final String BACKWARD_DQ = "parrot_attention_backward_dq_f32";
    static final String BACKWARD_DKV = "parrot_attention_backward_dkv_f32";
    static final String DECODE = "parrot_attention_decode_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "pppiiiifs",
            BACKWARD_PRE, "pppiiii",
            BACKWARD_DQ, "pppppiiiifs",
            BACKWARD_DKV, "pppppiiiifs",
            DECODE, "ppppiiiiifs");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    /** PARROT_MAX_HEADS in common.cuh. */
    static final int MAX_HEADS = 64;
    /** 32 · ATT_MAX_DPL in attention.cu. */
    static final int MAX_HEAD_DIM = 256;
    /** Warps (rows) per block. */
    static final int WARPS = 4;

    private final Device ctx;
    private final CudaModule module;

    AttentionKernels(Device ctx, CudaModule module) {
        this.ctx = ctx;
        this.module = module;
    }

    static void checkSpec(AttentionSpec spec) {
        if (spec.heads() > MAX_HEADS)
            throw new IllegalArgumentException("CUDA attention supports at most " + MAX_HEADS + " heads, got "
                    + spec.heads());
        if (spec.headDim() > MAX_HEAD_DIM || spec.headDim() < 1)
            throw new IllegalArgumentException("CUDA attention supports head dims 1.." + MAX_HEAD_DIM + ", got "
                    + spec.headDim());
        for (int h = 0; h < spec.heads(); h++)
            if (spec.window(h) < 0) throw new IllegalArgumentException("negative window for head " + h);
    }

    /** HeadParams {int window[64]; float slope[64];} as 128 words. */
    static int[] headParams(AttentionSpec spec) {
        int[] w = new int[2 * MAX_HEADS];
        for (int h = 0; h < spec.heads(); h++) {
            w[h] = spec.window(h);
            w[MAX_HEADS + h] = Float.floatToRawIntBits((float) spec.slope(h));
        }
        return w;
    }

    static float scale(AttentionSpec spec) {
        return (float) (1.0 / Math.sqrt(spec.headDim()));
    }

    private Dim3 rowsGrid(long rows) {
        return Dim3.of(Dim3.blocks(rows, WARPS));
    }

    void forward(CudaTensor out, CudaTensor lse, CudaTensor qkv, AttentionSpec spec, int batch, int seqLen) {
        long rows = (long) batch * spec.heads() * seqLen;
        if (rows == 0) return;
        ctx.launch(module, FORWARD, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                KernelArgs.of().ptr(out).ptr(lse).ptr(qkv).i(batch).i(seqLen).i(spec.heads()).i(spec.headDim())
                        .f(scale(spec)).words(headParams(spec)));
    }

    void backward(CudaTensor dqkv, CudaTensor dout, CudaTensor qkv, CudaTensor out, CudaTensor lse,
                  AttentionSpec spec, int batch, int seqLen) {
        long rows = (long) batch * spec.heads() * seqLen;
        if (rows == 0) return;
        int h = spec.heads(), hd = spec.headDim();
        CUdeviceptr d = ctx.scratch("attention.D", rows * 4);
        ctx.launch(module, BACKWARD_PRE, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                KernelArgs.of().ptr(d).ptr(dout).ptr(out).i(batch).i(seqLen).i(h).i(hd));
        int[] hp = headParams(spec);
        float scale = scale(spec);
        ctx.launch(module, BACKWARD_DQ, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                KernelArgs.of().ptr(dqkv).ptr(dout).ptr(qkv).ptr(lse).ptr(d).i(batch).i(seqLen).i(h).i(hd)
                        .f(scale).words(hp));
        ctx.launch(module, BACKWARD_DKV, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                KernelArgs.of().ptr(dqkv).ptr(dout).ptr(qkv).ptr(lse).ptr(d).i(batch).i(seqLen).i(h).i(hd)
                        .f(scale).words(hp));
    }

    void decode(CudaTensor out, CudaTensor qkv, CudaTensor kCache, CudaTensor vCache, AttentionSpec spec,
                int batch, int maxLen, int pos) {
        long rows = (long) batch * spec.heads();
        if (rows == 0) return;
        ctx.launch(module, DECODE, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                KernelArgs.of().ptr(out).ptr(qkv).ptr(kCache).ptr(vCache).i(batch).i(spec.heads())
                        .i(spec.headDim()).i(maxLen).i(pos).f(scale(spec)).words(headParams(spec)));
    }
}
