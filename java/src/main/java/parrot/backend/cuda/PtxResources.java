package parrot.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PTX that {@code make kernels} (cuda.mk) builds into build/ptx-resources and the jar carries as
 * {@code /parrot/ptx/<sm>/<family>.ptx}.
 */
public final class PtxResources {
    /**
     * The PTX targets cuda.mk builds (CUDA_SMS), oldest first. One: the driver JIT-compiles compute_80 PTX for
     * every newer card, and nvcc's sm_90 PTX of these kernels was the sm_80 text with another .target line.
     */
    public static final String[] ARCHS = {"sm_80"};
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_$][\\w$]*)\\s*\\(");
    private static final Pattern ENTRY_PARAMS = Pattern.compile("\\.entry\\s+([A-Za-z_$][\\w$]*)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile(
            "\\.param\\s+(?:\\.align\\s+\\d+\\s+)?\\.(\\w+)\\s+[\\w$]+(?:\\[(\\d+)\\])?");

    private PtxResources() {
    }

    /** The PTX directory for a device: the newest of {@link #ARCHS} it can run; null below compute capability 8.0. */
    public static String archFor(int ccMajor, int ccMinor) {
        String best = null;
        for (String arch : ARCHS) {
            int cc = Integer.parseInt(arch.substring(3));
            if (ccMajor * 10 + ccMinor >= cc) best = arch;
        }
        return best;
    }

    public static String path(String arch, String family) {
        return "/parrot/ptx/" + arch + "/" + family + ".ptx";
    }

    public static boolean exists(String arch, String family) {
        return PtxResources.class.getResource(path(arch, family)) != null;
    }

    /** True when this build carries PTX for every kernel family and arch (i.e. nvcc ran at build time). */
    public static boolean built() {
        for (String arch : ARCHS)
            for (String family : KernelFamilies.names())
                if (!exists(arch, family)) return false;
        return true;
    }

    /** The PTX text, or null when the resource is absent. */
    public static String load(String arch, String family) {
        try (InputStream in = PtxResources.class.getResourceAsStream(path(arch, family))) {
            if (in == null) return null;
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + path(arch, family), e);
        }
    }

    /**
     * Each entry's parameter signature in the letters of {@link KernelFamilies#signature}: .u64 → p,
     * .u32/.s32 → i, .f32 → f, .f64 → d, a .b8 array → s followed by its byte size in brackets, e.g. "s[512]".
     */
    public static Map<String, String> entrySignatures(String ptx) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = ENTRY_PARAMS.matcher(ptx);
        while (m.find()) {
            StringBuilder sig = new StringBuilder();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) {
                switch (p.group(1)) {
                    case "u64", "b64", "s64" -> sig.append('p');
                    case "u32", "s32", "b32" -> sig.append('i');
                    case "f32" -> sig.append('f');
                    case "f64" -> sig.append('d');
                    case "b8" -> sig.append("s[").append(p.group(2)).append(']');
                    default -> sig.append('?').append(p.group(1));
                }
            }
            out.put(m.group(1), sig.toString());
        }
        return out;
    }

    /** Names of the {@code .entry} (kernel) functions a PTX text declares. */
    public static Set<String> entries(String ptx) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) names.add(m.group(1));
        return names;
    }
}
