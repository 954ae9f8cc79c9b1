package parrot.selftest;

import parrot.backend.Backend;
import parrot.backend.cuda.AttentionPrecision;
import parrot.backend.cuda.CudaBackend;
import parrot.backend.cuda.DeviceSelector;
import parrot.backend.cuda.GemmMode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The backend under test and its variants: a CUDA device is also checked with the built-in GEMM (the default
 * takes cuBLAS) and with every attention precision. Variants open on first use and close with this object. The
 * CPU backend has no variants, so the suite lists only the checks of the default one for it.
 */
public final class Candidate implements AutoCloseable {
    /** The variant every backend has. */
    public static final String DEFAULT = "";
    public static final String GEMM_BUILTIN = "gemm=builtin";

    private final Backend main;
    private final String device;
    private final boolean emulated;
    private final Map<String, Supplier<Backend>> factories = new LinkedHashMap<>();
    private final Map<String, Backend> opened = new LinkedHashMap<>();

    private Candidate(Backend main, String device, boolean emulated) {
        this.main = main;
        this.device = device;
        this.emulated = emulated;
        opened.put(DEFAULT, main);
    }

    /** Any backend with no variants (e.g. the float32 CPU backend). Closing the candidate closes it. */
    public static Candidate of(Backend main) {
        return new Candidate(main, main.name(), false);
    }

    /** CUDA device {@code ordinal}: cuBLAS (where it loads) and FP32 attention, plus the variants. */
    public static Candidate cuda(int ordinal) {
        CudaBackend main = new CudaBackend(ordinal, GemmMode.AUTO, AttentionPrecision.FP32);
        Candidate c = new Candidate(main, main.deviceName(), DeviceSelector.isEmulated(main.deviceName()));
        c.factories.put(GEMM_BUILTIN, () -> new CudaBackend(ordinal, GemmMode.BUILTIN, AttentionPrecision.FP32));
        for (AttentionPrecision p : AttentionPrecision.values())
            if (p != AttentionPrecision.FP32)
                c.factories.put(attention(p), () -> new CudaBackend(ordinal, GemmMode.AUTO, p));
        return c;
    }

    /** The variants a CUDA candidate offers (what {@link #cuda} sets up), known without a device. */
    public static Set<String> cudaVariants() {
        Set<String> s = new java.util.LinkedHashSet<>(List.of(DEFAULT, GEMM_BUILTIN));
        for (AttentionPrecision p : AttentionPrecision.values()) s.add(attention(p));
        return s;
    }

    /** The variant key of an attention precision; FP32 is the default backend's. */
    public static String attention(AttentionPrecision p) {
        return p == AttentionPrecision.FP32 ? DEFAULT : "attention=" + p.name().toLowerCase(java.util.Locale.ROOT);
    }

    public Set<String> variants() {
        Set<String> s = new java.util.LinkedHashSet<>(opened.keySet());
        s.addAll(factories.keySet());
        return s;
    }

    /** The backend of a variant, opened on first use. */
    public Backend get(String variant) {
        Backend b = opened.get(variant);
        if (b != null) return b;
        Supplier<Backend> f = factories.get(variant);
        if (f == null) throw new IllegalArgumentException("no variant '" + variant + "' of " + device);
        b = f.get();
        opened.put(variant, b);
        return b;
    }

    public Backend main() {
        return main;
    }

    /** The device's own name, e.g. "NVIDIA H100 80GB HBM3" or "emulated CUDA device (CPU)". */
    public String device() {
        return device;
    }

    /** True on the CPU implementation of the CUDA driver: nothing it reports is a GPU result. */
    public boolean emulated() {
        return emulated;
    }

    @Override
    public void close() {
        List<Backend> all = new ArrayList<>(opened.values());
        opened.clear();
        for (int i = all.size() - 1; i >= 0; i--) all.get(i).close();
    }
}
