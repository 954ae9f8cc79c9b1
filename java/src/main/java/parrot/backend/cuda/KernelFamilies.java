package parrot.backend.cuda;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every kernel family (one cuda-kernels/&lt;family&gt;.cu, one launcher class) and the kernel names its launcher
 * uses. The backend loads exactly these; KernelSourcesTest checks them against the built PTX without a GPU.
 */
public final class KernelFamilies {
    private static final Map<String, List<String>> ALL = new LinkedHashMap<>();
    private static final Map<String, String> SIGNATURES = new HashMap<>();

    static {
        ALL.put(ElementwiseKernels.FAMILY, ElementwiseKernels.KERNELS);
        SIGNATURES.putAll(ElementwiseKernels.SIGNATURES);
        ALL.put(EmbeddingKernels.FAMILY, EmbeddingKernels.KERNELS);
        SIGNATURES.putAll(EmbeddingKernels.SIGNATURES);
        ALL.put(LinearKernels.FAMILY, LinearKernels.KERNELS);
        SIGNATURES.putAll(LinearKernels.SIGNATURES);
        ALL.put(LayerNormKernels.FAMILY, LayerNormKernels.KERNELS);
        SIGNATURES.putAll(LayerNormKernels.SIGNATURES);
        ALL.put(RopeKernels.FAMILY, RopeKernels.KERNELS);
        SIGNATURES.putAll(RopeKernels.SIGNATURES);
        ALL.put(AttentionKernels.FAMILY, AttentionKernels.KERNELS);
        SIGNATURES.putAll(AttentionKernels.SIGNATURES);
        ALL.put(AttentionKernels.FLASH_FAMILY, AttentionKernels.FLASH_KERNELS);
        SIGNATURES.putAll(AttentionKernels.FLASH_SIGNATURES);
        ALL.put(CrossEntropyKernels.FAMILY, CrossEntropyKernels.KERNELS);
        SIGNATURES.putAll(CrossEntropyKernels.SIGNATURES);
        ALL.put(OptimizerKernels.FAMILY, OptimizerKernels.KERNELS);
        SIGNATURES.putAll(OptimizerKernels.SIGNATURES);
        // Mamba, LSTM and the multi-tensor optimizer
        ALL.put(ScanKernels.FAMILY, ScanKernels.KERNELS);
        SIGNATURES.putAll(ScanKernels.SIGNATURES);
        ALL.put(Conv1dKernels.FAMILY, Conv1dKernels.KERNELS);
        SIGNATURES.putAll(Conv1dKernels.SIGNATURES);
        ALL.put(RmsNormKernels.FAMILY, RmsNormKernels.KERNELS);
        SIGNATURES.putAll(RmsNormKernels.SIGNATURES);
        ALL.put(PointwiseKernels.FAMILY, PointwiseKernels.KERNELS);
        SIGNATURES.putAll(PointwiseKernels.SIGNATURES);
        ALL.put(LstmKernels.FAMILY, LstmKernels.KERNELS);
        SIGNATURES.putAll(LstmKernels.SIGNATURES);
        ALL.put(MultiTensorKernels.FAMILY, MultiTensorKernels.KERNELS);
        SIGNATURES.putAll(MultiTensorKernels.SIGNATURES);
    }

    private KernelFamilies() {
    }

    public static List<String> names() {
        return List.copyOf(ALL.keySet());
    }

    public static List<String> kernels(String family) {
        List<String> k = ALL.get(family);
        if (k == null) throw new IllegalArgumentException("unknown kernel family " + family);
        return k;
    }

    /**
     * The parameter signature a kernel is launched with, one letter a parameter: p pointer, i int, f float,
     * d double, s by-value struct (see {@link KernelArgs}; KernelSourcesTest compares it with the PTX).
     */
    public static String signature(String kernel) {
        String s = SIGNATURES.get(kernel);
        if (s == null) throw new IllegalArgumentException("unknown kernel " + kernel);
        return s;
    }

    public static Map<String, List<String>> all() {
        return Map.copyOf(ALL);
    }
}
