package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.SparseFiles;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ModelConfig;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.model.Parameter;
import parrot.train.SafeTensors;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The loader's memory: tensors are decoded piece by piece into their parameters, so loading allocates a bounded
 * amount whatever the tensors' sizes (the peak-memory budget of issue 12: the float32 weights plus one shard, and
 * a process's peak RSS that does not depend on when the collector runs); and a file over 2 GiB with parameters
 * past its first 2 GiB loads.
 */
class HfWeightsTest {
    static final int VOCAB = 16384;

    /** GPT-NeoX, 1 layer of 128: embedding and head of 2M elements (8 MB, 8 pieces) each, 17 MB in all. */
    static ModelConfig mid() {
        return new ModelConfig("mid", "transformer", 128, 4, 1, "rope", null, null, 0.25, 10000, null, 1e-5, 0.02);
    }

    /** A folder of random (seeded) weights; returns the model written. */
    static LanguageModel writeMid(Backend be, Path dir) {
        LanguageModel m = ModelFactory.create(mid(), VOCAB, be, 3);
        HfExport.write(m, mid(), dir);
        return m;
    }

    static LanguageModel empty(Path dir, Backend be) {
        HfConfig cfg = HfConfig.read(dir, "mid");
        return ModelFactory.createForInference(cfg.model(), cfg.vocabSize(), be);
    }

    /** Every parameter of b bitwise equal to a's. */
    static void assertSameWeights(LanguageModel a, LanguageModel b, String what) {
        List<Parameter> pa = a.parameters().list(), pb = b.parameters().list();
        assertEquals(pa.size(), pb.size(), what);
        for (int i = 0; i < pa.size(); i++) {
            assertEquals(pa.get(i).name(), pb.get(i).name(), what);
            assertArrayEquals(a.backend().toFloats(pa.get(i).value()), b.backend().toFloats(pb.get(i).value()),
                    what + ": " + pa.get(i).name());
        }
    }

    private static final com.sun.management.ThreadMXBean ALLOC =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Loading 17 MB of weights whose largest tensors are 8 MB allocates under 2 MB: the one piece array (1 MiB) and
     * small objects, no array per tensor or per tensor size (those staging copies were garbage the collector
     * reclaimed when it chose, and the Mamba-130M shape's peak RSS went over the budget with them). Counted on this
     * thread in bytes, so it does not depend on timing or the collector.
     */
    @Test
    void loadingAllocatesOnePieceNotWholeTensors(@TempDir Path tmp) {
        assumeTrue(ALLOC.isThreadAllocatedMemorySupported() && ALLOC.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes per thread: SKIPPED");
        Path dir = tmp.resolve("mid");
        try (Backend be = new CpuBackend()) {
            LanguageModel src = writeMid(be, dir);
            HfWeights.load(empty(dir, be), dir);                           // classes loaded, code compiled
            LanguageModel m = empty(dir, be);
            long before = ALLOC.getCurrentThreadAllocatedBytes();
            HfWeights.load(m, dir);
            long allocated = ALLOC.getCurrentThreadAllocatedBytes() - before;
            long largest = m.parameters().list().stream().mapToLong(p -> 4L * p.value().length()).max().orElseThrow();
            long bound = 4L * HfWeights.PIECE + (1 << 20);
            assertTrue(largest >= 4 * bound, "the test needs tensors well over the bound: " + largest);
            assertTrue(allocated < bound, "loading " + 4 * m.parameters().count() + " bytes of weights (largest tensor "
                    + largest + ") allocated " + allocated + " bytes; at most " + bound + " expected");
            assertSameWeights(src, m, "loaded in pieces");
        }
    }

    /**
     * A model.safetensors of 2 GiB + 4 MB whose first tensor is layer 0's causal mask (a buffer skipped by name,
     * here a hole) and every parameter lies past byte 2^31: it loads, bitwise, as the original fixture does. Sparse,
     * so nothing near 2 GiB is written; skipped where the file system cannot keep holes.
     */
    @Test
    void parametersPast2GiBLoad(@TempDir Path tmp) throws IOException {
        SparseFiles.assumeSparse(tmp);
        Path src = HfModelTest.fixture("pythia-tiny"), dir = tmp.resolve("big");
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        byte[] file = Files.readAllBytes(src.resolve(HfWeights.SINGLE));
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = (int) in.getLong(0), dataStart = 8 + headerLen;
        ObjectNode header = (ObjectNode) HfModelTest.JSON.readTree(new String(file, 8, headerLen, StandardCharsets.UTF_8));
        String mask = "gpt_neox.layers.0.attention.bias";
        int side = 46341;                                                    // side² bytes > 2^31
        long maskBytes = (long) side * side;
        List<Map.Entry<String, JsonNode>> rest = new ArrayList<>();
        header.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("__metadata__") && !e.getKey().equals(mask)) rest.add(e);
        });
        rest.sort(Comparator.comparingLong(e -> e.getValue().get("data_offsets").get(0).asLong()));
        ObjectNode out = HfModelTest.JSON.createObjectNode();
        ObjectNode m = out.putObject(mask);
        m.put("dtype", "U8");
        m.putArray("shape").add(1).add(1).add(side).add(side);
        m.putArray("data_offsets").add(0).add(maskBytes);
        long at = maskBytes;
        for (var e : rest) {
            long len = e.getValue().get("data_offsets").get(1).asLong() - e.getValue().get("data_offsets").get(0).asLong();
            ObjectNode t = out.putObject(e.getKey());
            t.put("dtype", e.getValue().get("dtype").asText());
            t.set("shape", e.getValue().get("shape"));
            t.putArray("data_offsets").add(at).add(at + len);
            at += len;
        }
        byte[] h = HfModelTest.JSON.writeValueAsBytes(out);
        Path big = dir.resolve(HfWeights.SINGLE);
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.seek(8 + h.length + maskBytes);                              // the mask: a hole
            for (var e : rest) {
                int b = (int) e.getValue().get("data_offsets").get(0).asLong(), end = (int) e.getValue().get("data_offsets").get(1).asLong();
                raf.write(file, dataStart + b, end - b);
            }
        }
        assertTrue(Files.size(big) > (1L << 31) + 4096, "over 2 GiB: " + Files.size(big));
        try (SafeTensors.Reader r = SafeTensors.open(big)) {
            assertTrue(r.info("gpt_neox.embed_in.weight").begin() > 1L << 31, "parameters start past 2 GiB");
        }
        try (Backend be = new CpuBackend()) {
            assertSameWeights(HfModel.load(src, be, null).model(), HfModel.load(dir, be, null).model(), "past 2 GiB");
        }
    }
}
