package parrot.backend.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jcuda.driver.CUdeviceptr;
import parrot.backend.AttentionSpec;
import parrot.backend.cpu.AttentionTiling;

/**
 * Launcher of the attention kernels: cuda-kernels/flash_attention.cu (fused FlashAttention-2 forward and backward
 * with the tiling of {@link AttentionTiling}, split-KV decoding) and cuda-kernels/attention.cu (the simple per-row
 * kernels, {@link AttentionPrecision#SIMPLE}). Per-head windows and ALiBi slopes travel by value as the kernels'
 * {@code HeadParams} argument, so no upload is needed per call.
 *
 * <p>Launch shapes (flash): forward grid (B·H, ⌈T/Br⌉), backward pre-pass one warp per row then grid
 * (B·H, ⌈T/Bc⌉), decode append (elementwise), chunks (B·H, J) with J = max over heads of the chunk count, combine
 * (B·H). Br and Bc are {@link AttentionTiling#defaultBr}/{@link AttentionTiling#defaultBc} of the padded head dim;
 * block sizes are the kernels' launch bounds (KernelSourcesTest checks them against the source).
 */
final class AttentionKernels {
    static final String FAMILY = "attention";
    static final String FLASH_FAMILY = "flash_attention";

    // attention.cu (SIMPLE)
    static final String FORWARD = "parrot_attention_forward_f32";
    static final String BACKWARD_PRE = "parrot_attention_backward_pre_f32";
    static final String BACKWARD_DQ = "parrot_attention_backward_dq_f32";
    static final String BACKWARD_DKV = "parrot_attention_backward_dkv_f32";
    static final String DECODE = "parrot_attention_decode_f32";
    static final String FILL_CACHE = "parrot_attention_fill_cache_f32";
    /** Parameter signature of each kernel: p pointer, i int, f float, d double, s by-value struct. */
    static final Map<String, String> SIGNATURES = Map.of(
            FORWARD, "pppiiiifs",
            BACKWARD_PRE, "pppiiii",
            BACKWARD_DQ, "pppppiiiifs",
            BACKWARD_DKV, "pppppiiiifs",
            DECODE, "ppppiiiiifs",
            FILL_CACHE, "pppiiiii");
    static final List<String> KERNELS = List.copyOf(new TreeSet<>(SIGNATURES.keySet()));

    // flash_attention.cu
    static final String FLASH_PRE = "parrot_flash_attention_backward_pre_f32";
    static final String DECODE_APPEND = "parrot_flash_attention_decode_append_f32";
    static final String DECODE_SPLIT = "parrot_flash_attention_decode_split_f32";
    static final String DECODE_COMBINE = "parrot_flash_attention_decode_combine_f32";
    /** Padded head dims with FP32 kernels, and with tensor-core kernels. */
    static final int[] F32_HDP = {32, 64, 128, 256}, TC_HDP = {32, 64, 128};
    static final Map<String, String> FLASH_SIGNATURES;
    static final List<String> FLASH_KERNELS;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        for (int hdp : F32_HDP) {
            m.put(flashForward(hdp, "f32"), "pppiiiifs");
            m.put(flashBackward(hdp, "f32"), "pppppiiiifs");
        }
        for (String dt : new String[] {"bf16", "tf32"})
            for (int hdp : TC_HDP) {
                m.put(flashForward(hdp, dt), "pppiiiifs");
                m.put(flashBackward(hdp, dt), "pppppiiiifs");
            }
        m.put(FLASH_PRE, "pppiiii");
        m.put(DECODE_APPEND, "pppiiiii");
        m.put(DECODE_SPLIT, "ppppiiiiiifs");
        m.put(DECODE_COMBINE, "ppiiiiis");
        FLASH_SIGNATURES = Map.copyOf(m);
        FLASH_KERNELS = List.copyOf(new TreeSet<>(m.keySet()));
    }

    /** PARROT_MAX_HEADS in common.cuh. */
    static final int MAX_HEADS = 64;
    /** The largest padded head dim (attention.cu: 32 · ATT_MAX_DPL; flash_attention.cu: HDP 256). */
    static final int MAX_HEAD_DIM = 256;
    /** Head dims up to this run on tensor cores in BF16/TF32 (padded to 32, 64 or 128). */
    static final int MAX_TC_HEAD_DIM = 128;
    /** Warps (rows) per block of the simple kernels and of the backward pre-pass. */
    static final int WARPS = 4;
    /** FA_DECODE_SPLIT (= AttentionTiling.DEFAULT_SPLIT) and FA_DECODE_THREADS in flash_attention.cu. */
    static final int DECODE_SPLIT_KEYS = AttentionTiling.DEFAULT_SPLIT, DECODE_THREADS = 128;

    private final Device ctx;
    private final CudaModule module;
    private final CudaModule flash;
    private final AttentionPrecision precision;

    AttentionKernels(Device ctx, CudaModule simpleModule, CudaModule flashModule, AttentionPrecision precision) {
        this.ctx = ctx;
        this.module = simpleModule;
        this.flash = flashModule;
        this.precision = precision;
    }

    AttentionPrecision precision() {
        return precision;
    }

    static String flashForward(int hdp, String dtype) {
        return "parrot_flash_attention_forward_hd" + hdp + "_" + dtype;
    }

    static String flashBackward(int hdp, String dtype) {
        return "parrot_flash_attention_backward_hd" + hdp + "_" + dtype;
    }

    /**
     * Which flash kernels a head dim runs and how: the head dim padded to hdp, tiles br × bc, block sizes.
     * FP32 kernels: a row belongs to TPR = hdp / DPT lanes (DPT = 16 at hdp 32, else 32), forward block Br·TPR,
     * backward Bc·TPR. Tensor cores: forward 4 warps of 16 rows, backward one warp per 16 keys.
     */
    record FlashPlan(String forward, String backward, int hdp, int br, int bc, int forwardThreads,
                     int backwardThreads) {
    }

    static int paddedHeadDim(int headDim) {
        for (int hdp : F32_HDP)
            if (headDim <= hdp) return hdp;
        throw new IllegalArgumentException("head dim " + headDim + " > " + MAX_HEAD_DIM);
    }

    static FlashPlan flashPlan(AttentionPrecision precision, int headDim) {
        int hdp = paddedHeadDim(headDim);
        int br = AttentionTiling.defaultBr(hdp), bc = AttentionTiling.defaultBc(hdp);
        if (precision.tensorCores(headDim)) {
            String dt = precision.dtype();
            return new FlashPlan(flashForward(hdp, dt), flashBackward(hdp, dt), hdp, br, bc, 128, 32 * (bc / 16));
        }
        int tpr = hdp / (hdp <= 32 ? 16 : 32);
        return new FlashPlan(flashForward(hdp, "f32"), flashBackward(hdp, "f32"), hdp, br, bc, br * tpr, bc * tpr);
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

    private static int bh(int batch, AttentionSpec spec) {
        long n = (long) batch * spec.heads();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("batch·heads too large: " + n);
        return (int) n;
    }

    void forward(CudaTensor out, CudaTensor lse, CudaTensor qkv, AttentionSpec spec, int batch, int seqLen) {
        long rows = (long) batch * spec.heads() * seqLen;
        if (rows == 0) return;
        KernelArgs args = KernelArgs.of().ptr(out).ptr(lse).ptr(qkv).i(batch).i(seqLen).i(spec.heads())
                .i(spec.headDim()).f(scale(spec)).words(headParams(spec));
        if (precision == AttentionPrecision.SIMPLE) {
            ctx.launch(module, FORWARD, rowsGrid(rows), Dim3.of(32, WARPS), 0, args);
            return;
        }
        FlashPlan p = flashPlan(precision, spec.headDim());
        ctx.launch(flash, p.forward(), Dim3.of(bh(batch, spec), Dim3.blocks(seqLen, p.br())),
                Dim3.of(p.forwardThreads()), 0, args);
    }

    void backward(CudaTensor dqkv, CudaTensor dout, CudaTensor qkv, CudaTensor out, CudaTensor lse,
                  AttentionSpec spec, int batch, int seqLen) {
        long rows = (long) batch * spec.heads() * seqLen;
        if (rows == 0) return;
        int h = spec.heads(), hd = spec.headDim();
        boolean simple = precision == AttentionPrecision.SIMPLE;
        CUdeviceptr d = ctx.scratch("attention.D", rows * 4);
        ctx.launch(simple ? module : flash, simple ? BACKWARD_PRE : FLASH_PRE, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                KernelArgs.of().ptr(d).ptr(dout).ptr(out).i(batch).i(seqLen).i(h).i(hd));
        int[] hp = headParams(spec);
        float scale = scale(spec);
        if (simple) {
            ctx.launch(module, BACKWARD_DQ, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                    KernelArgs.of().ptr(dqkv).ptr(dout).ptr(qkv).ptr(lse).ptr(d).i(batch).i(seqLen).i(h).i(hd)
                            .f(scale).words(hp));
            ctx.launch(module, BACKWARD_DKV, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                    KernelArgs.of().ptr(dqkv).ptr(dout).ptr(qkv).ptr(lse).ptr(d).i(batch).i(seqLen).i(h).i(hd)
                            .f(scale).words(hp));
            return;
        }
        FlashPlan p = flashPlan(precision, hd);
        ctx.launch(flash, p.backward(), Dim3.of(bh(batch, spec), Dim3.blocks(seqLen, p.bc())),
                Dim3.of(p.backwardThreads()), 0,
                KernelArgs.of().ptr(dqkv).ptr(dout).ptr(qkv).ptr(lse).ptr(d).i(batch).i(seqLen).i(h).i(hd)
                        .f(scale).words(hp));
    }

    /** Chunks of the cache that decoding position pos reads, the most over the heads (AttentionTiling.decode). */
    static int decodeChunks(AttentionSpec spec, int pos) {
        int j = 0;
        for (int h = 0; h < spec.heads(); h++)
            j = Math.max(j, pos / DECODE_SPLIT_KEYS - spec.firstKey(h, pos) / DECODE_SPLIT_KEYS + 1);
        return j;
    }

    /** Prefill of a fresh cache (attention.cu's kernel, whichever precision: it only copies). */
    void fillCache(CudaTensor kCache, CudaTensor vCache, CudaTensor qkv, AttentionSpec spec, int batch, int seqLen,
                   int maxLen) {
        long n = (long) batch * seqLen * spec.width();
        if (n == 0) return;
        ctx.launch(module, FILL_CACHE, ElementwiseKernels.grid(n), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(kCache).ptr(vCache).ptr(qkv).i(batch).i(spec.heads()).i(spec.headDim()).i(seqLen)
                        .i(maxLen));
    }

    void decode(CudaTensor out, CudaTensor qkv, CudaTensor kCache, CudaTensor vCache, AttentionSpec spec,
                int batch, int maxLen, int pos) {
        long rows = (long) batch * spec.heads();
        if (rows == 0) return;
        if (precision == AttentionPrecision.SIMPLE) {
            ctx.launch(module, DECODE, rowsGrid(rows), Dim3.of(32, WARPS), 0,
                    KernelArgs.of().ptr(out).ptr(qkv).ptr(kCache).ptr(vCache).i(batch).i(spec.heads())
                            .i(spec.headDim()).i(maxLen).i(pos).f(scale(spec)).words(headParams(spec)));
            return;
        }
        int h = spec.heads(), hd = spec.headDim(), nbh = bh(batch, spec), j = decodeChunks(spec, pos);
        int[] hp = headParams(spec);
        ctx.launch(flash, DECODE_APPEND, ElementwiseKernels.grid(rows * hd), Dim3.of(ElementwiseKernels.THREADS), 0,
                KernelArgs.of().ptr(kCache).ptr(vCache).ptr(qkv).i(batch).i(h).i(hd).i(maxLen).i(pos));
        CUdeviceptr part = ctx.scratch("attention.decode", rows * j * (hd + 2L) * 4);
        ctx.launch(flash, DECODE_SPLIT, Dim3.of(nbh, j), Dim3.of(DECODE_THREADS), 0,
                KernelArgs.of().ptr(part).ptr(qkv).ptr(kCache).ptr(vCache).i(batch).i(h).i(hd).i(maxLen).i(pos).i(j)
                        .f(scale(spec)).words(hp));
        ctx.launch(flash, DECODE_COMBINE, Dim3.of(nbh), Dim3.of(DECODE_THREADS), 0,
                KernelArgs.of().ptr(out).ptr(part).i(batch).i(h).i(hd).i(pos).i(j).words(hp));
    }
}
