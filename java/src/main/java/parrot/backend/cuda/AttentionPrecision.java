package parrot.backend.cuda;

import java.util.Locale;

/**
 * Which attention kernels {@link CudaBackend} runs (PARROT_ATTENTION or -Dparrot.attention, default FP32). All of
 * them read and write float32 tensors; they differ in the arithmetic inside.
 */
public enum AttentionPrecision {
    /** flash_attention.cu's fused FP32 kernels (CUDA cores): exact float32, the training default; head dims ≤ 256. */
    FP32("f32"),
    /**
     * Fused kernels on tensor cores with BF16 operands (mma.sync m16n8k16), FP32 softmax and accumulation; head
     * dims ≤ 128 (larger ones run the FP32 kernels).
     */
    BF16("bf16"),
    /** The same with TF32 operands (mma.sync m16n8k8). */
    TF32("tf32"),
    /** attention.cu's unfused per-row kernels: slow, but every result (dQ included) bitwise reproducible. */
    SIMPLE(null);

    private final String dtype;

    AttentionPrecision(String dtype) {
        this.dtype = dtype;
    }

    /** The kernel-name suffix of its tensor-core (or FP32) flash kernels; null for SIMPLE. */
    String dtype() {
        return dtype;
    }

    /** Whether this precision runs the fused kernels on tensor cores for a head dim. */
    boolean tensorCores(int headDim) {
        return (this == BF16 || this == TF32) && headDim <= AttentionKernels.MAX_TC_HEAD_DIM;
    }

    /** fp32 | bf16 | tf32 | simple (case-insensitive). */
    public static AttentionPrecision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("attention precision must be fp32, bf16, tf32 or simple, got '" + s + "'");
        }
    }

    /** From the PARROT_ATTENTION environment variable or -Dparrot.attention, FP32 when neither is set. */
    public static AttentionPrecision fromEnvironment() {
        String s = System.getProperty("parrot.attention", System.getenv("PARROT_ATTENTION"));
        return s == null || s.isBlank() ? FP32 : parse(s);
    }
}
