package parrot.backend.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every kernel family (one cuda-kernels/&lt;family&gt;.cu, one launcher class) and the kernel names its launcher
 * uses. The backend loads exactly these; KernelSourcesTest checks them against the built PTX without a GPU.
 */
public final class KernelFamilies {
    private static final Map<String, List<String>> ALL = new LinkedHashMap<>();

    static {
        ALL.put(ElementwiseKernels.FAMILY, ElementwiseKernels.KERNELS);
        ALL.put(EmbeddingKernels.FAMILY, EmbeddingKernels.KERNELS);
        ALL.put(LinearKernels.FAMILY, LinearKernels.KERNELS);
        ALL.put(LayerNormKernels.FAMILY, LayerNormKernels.KERNELS);
        ALL.put(RopeKernels.FAMILY, RopeKernels.KERNELS);
        ALL.put(AttentionKernels.FAMILY, AttentionKernels.KERNELS);
        ALL.put(CrossEntropyKernels.FAMILY, CrossEntropyKernels.KERNELS);
        ALL.put(OptimizerKernels.FAMILY, OptimizerKernels.KERNELS);
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

    public static Map<String, List<String>> all() {
        return Map.copyOf(ALL);
    }
}
