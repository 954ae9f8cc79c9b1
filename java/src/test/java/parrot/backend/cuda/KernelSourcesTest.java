package parrot.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Catches name drift between the launchers (KernelFamilies) and the kernels, without a GPU: against the .cu
 * sources always, and against the built PTX resources when `make kernels` has run (else SKIPPED).
 */
class KernelSourcesTest {
    private static final Path SOURCES = Path.of("cuda-kernels");
    private static final Pattern GLOBAL = Pattern.compile(
            "extern\\s+\"C\"\\s+__global__\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?void\\s+"
                    + "(?:__launch_bounds__\\([^)]*\\)\\s+)?(\\w+)\\s*\\(");

    @Test
    void everyKernelFamilyHasOneCuFileAndBack() throws IOException {
        assumeTrue(Files.isDirectory(SOURCES), "cuda-kernels/ not found from " + Path.of("").toAbsolutePath());
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(SOURCES)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .forEach(n -> files.add(n.substring(0, n.length() - 3)));
        }
        assertEquals(new TreeSet<>(KernelFamilies.names()), files,
                "one launcher family per cuda-kernels/<family>.cu");
    }

    @Test
    void everyLauncherKernelIsDefinedInItsCuFile() throws IOException {
        assumeTrue(Files.isDirectory(SOURCES), "cuda-kernels/ not found from " + Path.of("").toAbsolutePath());
        List<String> missing = new ArrayList<>();
        for (String family : KernelFamilies.names()) {
            String src = Files.readString(SOURCES.resolve(family + ".cu"));
            Set<String> defined = new LinkedHashSet<>();
            Matcher m = GLOBAL.matcher(src);
            while (m.find()) defined.add(m.group(1));
            for (String k : KernelFamilies.kernels(family))
                if (!defined.contains(k)) missing.add(family + ".cu: " + k);
            for (String k : defined)
                if (!KernelFamilies.kernels(family).contains(k)) missing.add(family + " launcher does not list " + k);
        }
        assertTrue(missing.isEmpty(), "launcher/kernel names out of step: " + missing);
    }

    /**
     * A block larger than a kernel's __launch_bounds__ fails to launch on the device, so the flash launcher's block
     * sizes must equal the bounds written in flash_attention.cu; and the decode split must be the model's.
     */
    @Test
    void flashLaunchBoundsEqualTheLauncherBlocks() throws IOException {
        assumeTrue(Files.isDirectory(SOURCES), "cuda-kernels/ not found from " + Path.of("").toAbsolutePath());
        String src = Files.readString(SOURCES.resolve(AttentionKernels.FLASH_FAMILY + ".cu"));
        java.util.Map<String, Integer> bounds = new java.util.HashMap<>();
        Matcher m = Pattern.compile("__launch_bounds__\\((\\d+)(?:\\s*,\\s*\\d+)?\\)\\s+(\\w+)\\s*\\(").matcher(src);
        while (m.find()) bounds.put(m.group(2), Integer.parseInt(m.group(1)));
        java.util.Map<String, Integer> blocks = new java.util.HashMap<>();
        for (AttentionPrecision p : new AttentionPrecision[] {AttentionPrecision.FP32, AttentionPrecision.BF16,
                AttentionPrecision.TF32}) {
            for (int hd : AttentionKernels.F32_HDP) {
                AttentionKernels.FlashPlan plan = AttentionKernels.flashPlan(p, hd);
                blocks.put(plan.forward(), plan.forwardThreads());
                blocks.put(plan.backward(), plan.backwardThreads());
            }
        }
        blocks.put(AttentionKernels.FLASH_PRE, 32 * AttentionKernels.WARPS);
        blocks.put(AttentionKernels.DECODE_APPEND, ElementwiseKernels.THREADS);
        blocks.put(AttentionKernels.DECODE_SPLIT, AttentionKernels.DECODE_THREADS);
        blocks.put(AttentionKernels.DECODE_COMBINE, AttentionKernels.DECODE_THREADS);
        assertEquals(new TreeSet<>(AttentionKernels.FLASH_KERNELS), new TreeSet<>(blocks.keySet()),
                "every flash kernel is reached by a launch plan");
        List<String> wrong = new ArrayList<>();
        for (String k : AttentionKernels.FLASH_KERNELS)
            if (!blocks.get(k).equals(bounds.get(k)))
                wrong.add(k + ": launcher block " + blocks.get(k) + ", __launch_bounds__ " + bounds.get(k));
        assertTrue(wrong.isEmpty(), "block sizes out of step: " + wrong);
        Matcher split = Pattern.compile("#define FA_DECODE_SPLIT (\\d+)").matcher(src);
        assertTrue(split.find(), "FA_DECODE_SPLIT not found");
        assertEquals(parrot.backend.cpu.AttentionTiling.DEFAULT_SPLIT, Integer.parseInt(split.group(1)));
        Matcher threads = Pattern.compile("#define FA_DECODE_THREADS (\\d+)").matcher(src);
        assertTrue(threads.find(), "FA_DECODE_THREADS not found");
        assertEquals(AttentionKernels.DECODE_THREADS, Integer.parseInt(threads.group(1)));
    }

    @Test
    void everyLauncherKernelIsAnEntryOfTheBuiltPtx() {
        boolean any = false;
        for (String arch : PtxResources.ARCHS)
            for (String family : KernelFamilies.names())
                any |= PtxResources.exists(arch, family);
        assumeTrue(any, "no PTX resources built (run `make kernels` with nvcc): SKIPPED");
        List<String> missing = new ArrayList<>();
        for (String arch : PtxResources.ARCHS) {
            for (String family : KernelFamilies.names()) {
                String ptx = PtxResources.load(arch, family);
                assertNotNull(ptx, "PTX " + PtxResources.path(arch, family) + " missing while others were built");
                assertTrue(ptx.contains(".target " + arch), PtxResources.path(arch, family) + " is not for " + arch);
                Set<String> entries = PtxResources.entries(ptx);
                for (String k : KernelFamilies.kernels(family))
                    if (!entries.contains(k)) missing.add(arch + "/" + family + ".ptx: " + k);
            }
        }
        assertTrue(missing.isEmpty(), "kernels the launchers use but the PTX lacks: " + missing);
    }

    @Test
    void everyKernelSignatureMatchesThePtxParameters() {
        boolean any = false;
        for (String arch : PtxResources.ARCHS)
            for (String family : KernelFamilies.names())
                any |= PtxResources.exists(arch, family);
        assumeTrue(any, "no PTX resources built (run `make kernels` with nvcc): SKIPPED");
        String struct = "s[" + (8 * AttentionKernels.MAX_HEADS) + "]";   // HeadParams: int[64] + float[64]
        List<String> wrong = new ArrayList<>();
        for (String arch : PtxResources.ARCHS) {
            for (String family : KernelFamilies.names()) {
                java.util.Map<String, String> sigs = PtxResources.entrySignatures(PtxResources.load(arch, family));
                for (String k : KernelFamilies.kernels(family)) {
                    String want = KernelFamilies.signature(k).replace("s", struct);
                    if (!want.equals(sigs.get(k))) wrong.add(arch + " " + k + ": launcher (" + want + "), PTX ("
                            + sigs.get(k) + ")");
                }
            }
        }
        assertTrue(wrong.isEmpty(), "kernel parameters out of step: " + wrong);
    }

    @Test
    void ptxSignatureParser() {
        String ptx = ".visible .entry k(\n\t.param .u64 k_param_0,\n\t.param .u32 k_param_1,\n\t.param .f32 k_p2,\n"
                + "\t.param .f64 k_p3,\n\t.param .align 4 .b8 k_param_4[512]\n)\n{";
        assertEquals("pifds[512]", PtxResources.entrySignatures(ptx).get("k"));
    }

    @Test
    void ptxEntryParserFindsVisibleEntries() {
        String ptx = ".visible .entry parrot_a_f32(\n .param .u64 x\n)\n.entry parrot_b(\n)";
        assertEquals(List.of("parrot_a_f32", "parrot_b"), List.copyOf(PtxResources.entries(ptx)));
    }
}
