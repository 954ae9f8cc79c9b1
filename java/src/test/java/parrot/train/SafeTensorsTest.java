package parrot.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The safetensors reader refuses every header the format does not allow, naming the file and the field, reads
 * one tensor, or any range of one, without the others, across buffer fills and past 2 GiB, holding nothing but its
 * own small buffer and never mapping the file; the writer is deterministic.
 */
class SafeTensorsTest {
    /** A file from a literal header and data bytes; the header is padded to 8 bytes like the reference writer. */
    static Path file(Path dir, String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    static String refused(Path f) {
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f.toString() + ": "), "names the file: " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @Test
    void roundTripIsSortedAndByteReproducible(@TempDir Path tmp) throws IOException {
        Map<String, SafeTensors.Entry> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        a.put("z", new SafeTensors.Entry(new int[]{2}, new float[]{1, 2}));
        a.put("a", new SafeTensors.Entry(new int[]{1, 3}, new float[]{3, 4, Float.NaN}));
        b.put("a", a.get("a"));
        b.put("z", a.get("z"));
        Map<String, String> m1 = new LinkedHashMap<>(), m2 = new LinkedHashMap<>();
        m1.put("step", "3");
        m1.put("format", "pt");
        m2.put("format", "pt");
        m2.put("step", "3");
        Path f1 = tmp.resolve("1.safetensors"), f2 = tmp.resolve("2.safetensors");
        SafeTensors.write(f1, a, m1);
        SafeTensors.write(f2, b, m2);
        assertArrayEquals(Files.readAllBytes(f1), Files.readAllBytes(f2), "insertion order does not change the bytes");
        try (SafeTensors.Reader r = SafeTensors.open(f1)) {
            assertEquals(List.of("a", "z"), List.copyOf(r.names()));
            assertEquals(Map.of("format", "pt", "step", "3"), r.metadata());
            assertArrayEquals(new long[]{1, 3}, r.info("a").shape());
            assertEquals(SafeTensors.DType.F32, r.info("z").dtype());
            float[] buf = new float[5];
            r.readFloats("z", buf, 3);
            assertArrayEquals(new float[]{0, 0, 0, 1, 2}, buf);
            assertTrue(Float.isNaN(r.readFloats("a")[2]));
            assertTrue(assertThrows(IOException.class, () -> r.readFloats("z", new float[3], 2)).getMessage().contains("room for 1"));
            assertTrue(assertThrows(IOException.class, () -> r.info("q")).getMessage().contains("has no tensor q"));
        }
        assertEquals(0, Files.list(tmp).filter(p -> p.toString().contains(".tmp")).count(), "no temporaries left");
    }

    @Test
    void halfBfloatAndDoubleAreDecoded(@TempDir Path tmp) throws IOException {
        ByteBuffer d = ByteBuffer.allocate(2 * 2 + 2 * 2 + 8).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0x3c00).putShort((short) 0xc000);          // F16 1, -2
        d.putShort((short) 0x3f80).putShort((short) 0x4040);          // BF16 1, 3
        d.putDouble(0.5);
        Path f = file(tmp, "mixed.safetensors", """
                {"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},\
                "d":{"dtype":"F64","shape":[],"data_offsets":[8,16]}}""", d.array());
        Map<String, SafeTensors.Entry> t = SafeTensors.read(f);
        assertArrayEquals(new float[]{1, -2}, t.get("h").data());
        assertArrayEquals(new float[]{1, 3}, t.get("b").data());
        assertArrayEquals(new float[]{0.5f}, t.get("d").data());
        assertArrayEquals(new int[0], t.get("d").shape());
    }

    @Test
    void otherDtypesAreListedButNotReadAsFloats(@TempDir Path tmp) throws IOException {
        Path f = file(tmp, "mask.safetensors", """
                {"mask":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""",
                new byte[]{1, 0, 1, 1, 0, 0, (byte) 0x80, 0x3f});
        try (SafeTensors.Reader r = SafeTensors.open(f)) {
            assertEquals(SafeTensors.DType.BOOL, r.info("mask").dtype());
            assertArrayEquals(new float[]{1}, r.readFloats("w"));
            String m = assertThrows(IOException.class, () -> r.readFloats("mask")).getMessage();
            assertTrue(m.contains("tensor mask has dtype BOOL"), m);
        }
        assertTrue(refused(f).contains("tensor mask has dtype BOOL"));
    }

    @Test
    void everyMalformedHeaderIsRefusedNamingTheField(@TempDir Path tmp) throws IOException {
        byte[] eight = floats(1, 2);
        String[][] cases = {
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "data_offsets[0] must be a non-negative integer"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "end before they begin"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "overlap"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "gap of 4 bytes"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "4 trailing bytes"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "truncated"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "Duplicate field 'a'"},
                {"{\"__metadata__\":{\"step\":3},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "__metadata__.step must be a string"},
                {"{\"__metadata__\":[1],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "__metadata__ must be an object"},
                {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor a: unknown dtype \"Q4\""},
                {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor a: dtype must be a string"},
                {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "tensor a: shape must be an array"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "tensor a: data_offsets must be [begin, end]"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", "unknown field \"x\""},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape[0] must be a non-negative integer"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", "shape[0] must be a non-negative integer"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", "more than 2^63"},
                {"{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", "more than 2^63 bytes"},
                {"{\"a\":[1,2]}", "tensor a: must be an object"},
                {"[1,2]", "header is not a JSON object"},
                {"{\"a\":", "header is not valid JSON"},
                {"{} {}", "header is not valid JSON"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path f = file(tmp, "bad" + i++ + ".safetensors", c[0], eight);
            String m = refused(f);
            assertTrue(m.contains(c[1]), c[0] + " -> " + m);
        }
        // header length fields that cannot be right
        Path f = tmp.resolve("len.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(0);
        Files.write(f, b.array());
        assertTrue(refused(f).contains("outside 2.."));
        b.clear();
        b.putLong(9).putLong(0);
        Files.write(f, b.array());
        assertTrue(refused(f).contains("does not fit"));
        Files.write(f, new byte[]{1, 2, 3});
        assertTrue(refused(f).contains("shorter than the 8-byte header length"));
        byte[] bad = {(byte) 0xff, (byte) 0xfe};
        ByteBuffer u = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN).putLong(2).put(bad);
        Files.write(f, u.array());
        assertTrue(refused(f).contains("not valid UTF-8"));
        assertTrue(refused(tmp.resolve("absent.safetensors")).contains("no such file"));
        assertTrue(refused(tmp).contains("is a directory"));
    }

    @Test
    void headerKeyOrderIsFreeOffsetsDecide(@TempDir Path tmp) throws IOException {
        Path f = file(tmp, "order.safetensors", """
                {"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},\
                "a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", floats(1, 2));
        Map<String, SafeTensors.Entry> t = SafeTensors.read(f);
        assertEquals(List.of("a", "e", "b"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[]{2}, t.get("b").data());
        assertEquals(0, t.get("e").data().length);
    }

    @Test
    void tensorsCrossBufferFills(@TempDir Path tmp) throws IOException {
        float[] v = new float[1001];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.25f - 7;
        Path f = tmp.resolve("w.safetensors");
        SafeTensors.write(f, Map.of("a", new SafeTensors.Entry(new int[]{3}, new float[]{9, 8, 7}),
                "v", new SafeTensors.Entry(new int[]{7, 143}, v)), null);
        int saved = SafeTensors.window;
        SafeTensors.window = 64;
        try {
            assertArrayEquals(v, SafeTensors.read(f).get("v").data());
        } finally {
            SafeTensors.window = saved;
        }
    }

    /** Every decodable dtype, every range of a tensor, through a buffer of 24 bytes (fills of 3 to 12 elements). */
    @Test
    void anyRangeOfATensorIsReadAcrossBufferFills(@TempDir Path tmp) throws IOException {
        int n = 37;
        ByteBuffer d = ByteBuffer.allocate(n * (4 + 2 + 2 + 8)).order(ByteOrder.LITTLE_ENDIAN);
        float[] want = new float[n];
        for (int i = 0; i < n; i++) want[i] = i * 0.5f - 9;                       // exact in F16 and BF16
        for (float v : want) d.putFloat(v);
        for (float v : want) d.putShort(toHalf(v));
        for (float v : want) d.putShort((short) (Float.floatToIntBits(v) >>> 16));
        for (float v : want) d.putDouble(v);
        Path f = file(tmp, "ranges.safetensors", ("{\"f\":{\"dtype\":\"F32\",\"shape\":[37],\"data_offsets\":[0,148]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[37],\"data_offsets\":[148,222]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[37],\"data_offsets\":[222,296]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[37],\"data_offsets\":[296,592]}}"), d.array());
        int saved = SafeTensors.window;
        SafeTensors.window = 24;
        try (SafeTensors.Reader r = SafeTensors.open(f)) {
            for (String t : List.of("f", "h", "b", "d")) {
                assertArrayEquals(want, r.readFloats(t), t);
                for (int from = 0; from <= n; from += 5)
                    for (int count = 0; from + count <= n; count += 7) {
                        float[] got = new float[count + 3];
                        got[0] = got[count + 2] = 42;
                        r.readFloats(t, from, got, 2, count);
                        assertEquals(42, got[0], t + " writes nothing before the offset");
                        for (int i = 0; i < count; i++) assertEquals(want[from + i], got[2 + i], t + "[" + (from + i) + "]");
                        assertEquals(42, got[count + 2], t + " writes nothing past the range");
                    }
            }
            String m = assertThrows(IOException.class, () -> r.readFloats("f", 30, new float[10], 0, 8)).getMessage();
            assertTrue(m.contains("tensor f has 37 elements; asked for 8 from element 30"), m);
            m = assertThrows(IOException.class, () -> r.readFloats("f", 0, new float[10], 4, 8)).getMessage();
            assertTrue(m.contains("room for 6 from offset 4"), m);
        } finally {
            SafeTensors.window = saved;
        }
    }

    /**
     * Reading a 16 MB tensor into the caller's array allocates no heap beyond a few small objects (the reader's
     * buffer is allocated once and reused) and never maps the file: mapped pages a process has touched count in
     * its resident memory until the mapping is collected, which made a loader's peak RSS depend on the collector.
     */
    @Test
    void readingHoldsOnlyTheReadersBufferAndMapsNothing(@TempDir Path tmp) throws IOException {
        assumeTrue(ALLOC.isThreadAllocatedMemorySupported() && ALLOC.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes per thread: SKIPPED");
        float[] v = new float[4 << 20];
        for (int i = 0; i < v.length; i++) v[i] = i % 1000 - 500;
        Path f = tmp.resolve("big.safetensors");
        SafeTensors.write(f, Map.of("v", new SafeTensors.Entry(new int[]{4096, 1024}, v)), null);
        float[] dst = new float[v.length];
        try (SafeTensors.Reader r = SafeTensors.open(f)) {
            r.readFloats("v", 0, dst, 0, 1000);                                  // the buffer, once
            long before = ALLOC.getCurrentThreadAllocatedBytes();
            r.readFloats("v", dst, 0);
            r.readFloats("v", 1_000_003, dst, 5, 2_000_000);
            long allocated = ALLOC.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 256 << 10, "reading 16 MB twice allocated " + allocated + " bytes of heap");
            assertEquals(v[1_000_003], dst[5]);
            assertEquals(v[3_000_002], dst[1_999_999 + 5]);
            Path maps = Path.of("/proc/self/maps");
            if (Files.isReadable(maps))
                assertFalse(Files.readString(maps).contains(f.toString()), "the file is memory-mapped");
        }
        assertArrayEquals(v, SafeTensors.read(f).get("v").data());
    }

    private static final com.sun.management.ThreadMXBean ALLOC =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /** float to IEEE half for values exact in half (tests only). */
    private static short toHalf(float v) {
        if (v == 0) return (short) (Float.floatToIntBits(v) >>> 16 & 0x8000);
        int b = Float.floatToIntBits(v), sign = (b >>> 16) & 0x8000, exp = ((b >>> 23) & 0xff) - 127 + 15;
        return (short) (sign | (exp << 10) | ((b >>> 13) & 0x3ff));
    }

    /** A sparse file just over 2 GiB: the tensor after the first 2 GiB is read without touching the rest. */
    @Test
    void filesOver2GiBLoad(@TempDir Path tmp) throws IOException {
        parrot.SparseFiles.assumeSparse(tmp);
        long pad = (1L << 31) + 16;
        String header = ("{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + pad + "],\"data_offsets\":[0," + pad + "]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + pad + "," + (pad + 8) + "]}}");
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = tmp.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(b.array());
            raf.write(h);
            raf.seek(8 + h.length + pad);
            raf.write(floats(1.5f, -3));
        }
        assertTrue(Files.size(f) > (1L << 31));
        try (SafeTensors.Reader r = SafeTensors.open(f)) {
            assertEquals(pad, r.info("pad").elements());
            assertArrayEquals(new float[]{1.5f, -3}, r.readFloats("w"));
        }
    }
}
