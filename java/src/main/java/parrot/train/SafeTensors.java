package parrot.train;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw
 * little-endian tensor data. Files written here load with {@code safetensors.torch.load_file}; files written by
 * PyTorch / Hugging Face load here.
 *
 * <h2>Reading</h2>
 * <pre>{@code
 * try (SafeTensors.Reader r = SafeTensors.open(file)) {      // validates the whole header, reads no data
 *     for (SafeTensors.TensorInfo t : r.tensors())           // name, dtype, shape, offsets; in file order
 *         System.out.println(t.name() + " " + t.dtype() + " " + Arrays.toString(t.shape()));
 *     float[] w = r.readFloats("gpt_neox.embed_in.weight");  // one tensor, decoded to float32
 *     r.readFloats("embed_out.weight", buffer, offset);      // or into a buffer of the caller's
 *     r.readFloats("embed_out.weight", from, buffer, 0, n);  // or elements [from, from + n) of it
 * }
 * }</pre>
 * Data is read with positional reads through one reusable buffer of {@value #BUFFER_BYTES} bytes per reader, never
 * memory-mapped and never a whole file or tensor at once, so files (and tensors) of 2 GiB and more work, reading one
 * tensor never touches the others, and a loader that fills its parameters piece by piece needs no more than that
 * buffer beside them: the file's pages stay in the page cache, outside the process's resident memory (mapped pages a
 * process has touched count in its RSS until unmapped, which a MappedByteBuffer is only when collected). {@link #open} refuses,
 * before any data is read, any file whose header is not exactly what the format allows:
 * <ul>
 *   <li>the header length must be at least 2 and at most {@value #MAX_HEADER_BYTES} bytes and fit in the file;</li>
 *   <li>the header must be valid UTF-8 holding one JSON object with no duplicate keys;</li>
 *   <li>{@code __metadata__}, if present, must be an object whose values are all strings;</li>
 *   <li>every other key is a tensor: an object with exactly {@code dtype} (a known safetensors dtype),
 *       {@code shape} (non-negative integers) and {@code data_offsets} ([begin, end], non-negative integers,
 *       begin &le; end);</li>
 *   <li>end - begin must equal the dtype's width &times; the product of the shape (computed with overflow
 *       checks);</li>
 *   <li>sorted by offset the tensors must be contiguous from 0 with no gaps or overlaps, and the last one must
 *       end exactly at the end of the file (no trailing bytes).</li>
 * </ul>
 * Every dtype of the format can be listed; {@link Reader#readFloats} decodes F32, F16, BF16 and F64 to float32
 * and refuses any other dtype naming the tensor and its dtype. Every failure is a {@link FormatException} (an
 * {@link IOException}) whose message is one line naming the file and the tensor or header field.
 *
 * <h2>Writing</h2>
 * {@link #write(Path, Map, Map)} writes F32 tensors with tensors and metadata in sorted name order, so the same
 * tensors and metadata always give the same bytes (files can be compared by hash), and atomically (a temporary
 * sibling, fsync, rename): a crash leaves the old file or the new one, never a mix. The file mode follows the
 * umask, like any file the process creates.
 */
public final class SafeTensors {
    /** A tensor in memory: its shape and float32 values in row-major order. */
    public record Entry(int[] shape, float[] data) {
    }

    /** The dtypes of the safetensors format with their widths in bytes. */
    public enum DType {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4),
        F64(8), I64(8), U64(8);

        /** Bytes per element. */
        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** Whether {@link Reader#readFloats} can decode it (F32, F16, BF16, F64). */
        public boolean decodable() {
            return this == F32 || this == F16 || this == BF16 || this == F64;
        }
    }

    /**
     * One tensor's header entry: name, dtype, shape, and its data's byte range {@code [begin, end)} relative to
     * the end of the header. {@link #elements()} is the product of the shape.
     */
    public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
        /** Number of elements (1 for a scalar of shape []). */
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;       // cannot overflow: checked when the header was read
            return n;
        }

        /** Bytes of data. */
        public long bytes() {
            return end - begin;
        }

        /** The shape as ints; fails, naming the tensor, if a dimension does not fit an int. */
        public int[] intShape() {
            int[] s = new int[shape.length];
            for (int i = 0; i < s.length; i++) {
                if (shape[i] > Integer.MAX_VALUE)
                    throw new IllegalStateException("tensor " + name + " has dimension " + shape[i] + " (over 2^31-1)");
                s[i] = (int) shape[i];
            }
            return s;
        }
    }

    /** A file that is not a valid safetensors file, or a tensor that cannot be read as asked; one line. */
    public static final class FormatException extends IOException {
        public FormatException(Path file, String message) {
            super(file + ": " + message);
        }
    }

    /** The format's reference implementation refuses headers over 100 MB; so does this one. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** A reader's read buffer: a multiple of 8, so every fill holds whole elements of any dtype. */
    public static final int BUFFER_BYTES = 1 << 20;
    /** The largest float[] the JVM allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
    /** Buffer size of readers opened from now on; tests lower it to cross buffer fills with small files. */
    static int window = BUFFER_BYTES;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> TENSOR_FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final String METADATA = "__metadata__";

    private SafeTensors() {
    }

    // ---- reading -------------------------------------------------------------------------------------------

    /**
     * Opens and validates {@code file} (header only; no tensor data is read). Close the reader when done.
     *
     * @throws FormatException if the file is not a valid safetensors file (the message names the field)
     * @throws IOException     if it cannot be read (missing, a directory, no permission)
     */
    public static Reader open(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new FormatException(file, "is a directory, not a safetensors file");
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new FormatException(file, "no such file");
        }
        try {
            return new Reader(file, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Reads every tensor into memory, in file order; for small files. Each must have a decodable dtype. */
    public static Map<String, Entry> read(Path file) throws IOException {
        try (Reader r = open(file)) {
            Map<String, Entry> out = new LinkedHashMap<>();
            for (TensorInfo t : r.tensors()) out.put(t.name(), new Entry(shapeAsInts(file, t), r.readFloats(t.name())));
            return out;
        }
    }

    /** The {@code __metadata__} map of a validated file (empty if it has none). */
    public static Map<String, String> metadata(Path file) throws IOException {
        try (Reader r = open(file)) {
            return r.metadata();
        }
    }

    private static int[] shapeAsInts(Path file, TensorInfo t) throws FormatException {
        try {
            return t.intShape();
        } catch (IllegalStateException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    /**
     * An open, validated safetensors file. Tensors are read one at a time by name, through the reader's one
     * buffer; reads from several threads are serialised on it (closing during one is not allowed).
     */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, String> metadata;
        private final Map<String, TensorInfo> tensors;      // in offset order
        private final int bufferBytes = Math.max(8, window / 8 * 8);
        private ByteBuffer buffer;                           // allocated at the first read: listing needs none

        private Reader(Path file, FileChannel channel) throws IOException {
            this.file = file;
            this.channel = channel;
            long size = channel.size();
            if (size < 8)
                throw new FormatException(file, "not a safetensors file: " + size + " bytes, shorter than the 8-byte header length (truncated?)");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(len, 0);
            long n = len.flip().getLong();
            if (n < 2 || n > MAX_HEADER_BYTES)
                throw new FormatException(file, "header length " + Long.toUnsignedString(n)
                        + " is outside 2.." + MAX_HEADER_BYTES + " (not a safetensors file, or a corrupted one)");
            if (8 + n > size)
                throw new FormatException(file, "header length " + n + " does not fit in the file's " + size + " bytes (truncated?)");
            ByteBuffer head = ByteBuffer.allocate((int) n);
            readFully(head, 8);
            head.flip();
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(head).toString();
            } catch (CharacterCodingException e) {
                throw new FormatException(file, "header is not valid UTF-8");
            }
            JsonNode root;
            try {
                root = JSON.readTree(text);
            } catch (JsonProcessingException e) {
                throw new FormatException(file, "header is not valid JSON: " + jsonProblem(e));
            }
            if (root == null || !root.isObject())
                throw new FormatException(file, "header is not a JSON object");
            dataStart = 8 + n;
            metadata = parseMetadata(root.get(METADATA));
            List<TensorInfo> list = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getKey().equals(METADATA)) list.add(parseTensor(f.getKey(), f.getValue()));
            }
            // Contiguity: sorted by begin (zero-byte tensors first at a shared offset), each starts where the
            // previous one ended, the first at 0, the last at the end of the file.
            list.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
            long expect = 0;
            for (TensorInfo t : list) {
                if (t.begin() != expect)
                    throw new FormatException(file, "tensor " + t.name() + ": data_offsets [" + t.begin() + ", " + t.end()
                            + "] " + (t.begin() < expect ? "overlap the previous tensor's data" : "leave a gap of "
                            + (t.begin() - expect) + " bytes") + " (data must be contiguous from offset 0 in offset order; expected "
                            + expect + ")");
                expect = t.end();
            }
            long dataBytes = size - dataStart;
            if (expect != dataBytes)
                throw new FormatException(file, expect > dataBytes
                        ? "tensor data ends at byte " + (dataStart + expect) + " but the file has " + size + " bytes (truncated?)"
                        : "the file has " + (dataBytes - expect) + " trailing bytes after the last tensor's data (data_offsets end at "
                        + expect + ", data is " + dataBytes + " bytes)");
            Map<String, TensorInfo> byName = new LinkedHashMap<>();
            for (TensorInfo t : list) byName.put(t.name(), t);
            tensors = Collections.unmodifiableMap(byName);
        }

        private Map<String, String> parseMetadata(JsonNode meta) throws FormatException {
            Map<String, String> out = new TreeMap<>();
            if (meta == null) return Collections.unmodifiableMap(out);
            if (!meta.isObject()) throw new FormatException(file, METADATA + " must be an object of strings, found " + kind(meta));
            for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual())
                    throw new FormatException(file, METADATA + "." + e.getKey() + " must be a string, found " + kind(e.getValue()));
                out.put(e.getKey(), e.getValue().textValue());
            }
            return Collections.unmodifiableMap(out);
        }

        private TensorInfo parseTensor(String name, JsonNode t) throws FormatException {
            String where = "tensor " + name;
            if (!t.isObject()) throw new FormatException(file, where + ": must be an object with dtype, shape and data_offsets, found " + kind(t));
            for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!TENSOR_FIELDS.contains(k))
                    throw new FormatException(file, where + ": unknown field \"" + k + "\" (allowed: dtype, shape, data_offsets)");
            }
            JsonNode dt = t.get("dtype"), sh = t.get("shape"), off = t.get("data_offsets");
            if (dt == null || !dt.isTextual()) throw new FormatException(file, where + ": dtype must be a string, found " + kind(dt));
            DType dtype;
            try {
                dtype = DType.valueOf(dt.textValue());
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, where + ": unknown dtype \"" + dt.textValue() + "\" (allowed: "
                        + Arrays.toString(DType.values()).replaceAll("[\\[\\]]", "") + ")");
            }
            if (sh == null || !sh.isArray()) throw new FormatException(file, where + ": shape must be an array of non-negative integers, found " + kind(sh));
            long[] shape = new long[sh.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0)
                    throw new FormatException(file, where + ": shape[" + i + "] must be a non-negative integer, found " + d);
                shape[i] = d.longValue();
                try {
                    elements = Math.multiplyExact(elements, shape[i]);
                } catch (ArithmeticException e) {
                    throw new FormatException(file, where + ": shape " + sh + " has more than 2^63 elements");
                }
            }
            if (off == null || !off.isArray() || off.size() != 2)
                throw new FormatException(file, where + ": data_offsets must be [begin, end], found " + (off == null ? "nothing" : off));
            long[] be = new long[2];
            for (int i = 0; i < 2; i++) {
                JsonNode o = off.get(i);
                if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0)
                    throw new FormatException(file, where + ": data_offsets[" + i + "] must be a non-negative integer, found " + o);
                be[i] = o.longValue();
            }
            if (be[0] > be[1]) throw new FormatException(file, where + ": data_offsets [" + be[0] + ", " + be[1] + "] end before they begin");
            long bytes;
            try {
                bytes = Math.multiplyExact(elements, dtype.bytes);
            } catch (ArithmeticException e) {
                throw new FormatException(file, where + ": shape " + sh + " of " + dtype + " is more than 2^63 bytes");
            }
            if (be[1] - be[0] != bytes)
                throw new FormatException(file, where + ": data_offsets [" + be[0] + ", " + be[1] + "] hold " + (be[1] - be[0])
                        + " bytes, but shape " + sh + " of " + dtype + " needs " + bytes);
            return new TensorInfo(name, dtype, shape, be[0], be[1]);
        }

        private void readFully(ByteBuffer b, long position) throws IOException {
            while (b.hasRemaining()) {
                int r = channel.read(b, position);
                if (r < 0) throw new FormatException(file, "ends unexpectedly at byte " + position + " (truncated?)");
                position += r;
            }
        }

        /** The file this reader reads. */
        public Path file() {
            return file;
        }

        /** The {@code __metadata__} strings, sorted by key (empty if there are none). */
        public Map<String, String> metadata() {
            return metadata;
        }

        /** Every tensor's header entry, in the order of their data in the file. */
        public List<TensorInfo> tensors() {
            return List.copyOf(tensors.values());
        }

        /** Tensor names, in the order of their data in the file. */
        public Set<String> names() {
            return tensors.keySet();
        }

        /** Whether the file holds a tensor of this name. */
        public boolean has(String name) {
            return tensors.containsKey(name);
        }

        /** The header entry of one tensor; a {@link FormatException} naming it if the file has none. */
        public TensorInfo info(String name) throws FormatException {
            TensorInfo t = tensors.get(name);
            if (t == null) throw new FormatException(file, "has no tensor " + name);
            return t;
        }

        /** One tensor decoded to float32, in a new array. */
        public float[] readFloats(String name) throws IOException {
            TensorInfo t = info(name);
            if (t.elements() > MAX_ARRAY)
                throw new FormatException(file, "tensor " + name + " has " + t.elements()
                        + " elements, more than a Java array holds; read it in parts with readFloats(name, dst, offset)");
            checkDecodable(t);
            float[] out = new float[(int) t.elements()];
            readFloats(name, out, 0);
            return out;
        }

        /**
         * One tensor decoded to float32 into {@code dst[offset ..]}; {@code dst} must have room for all its
         * elements. F32, F16, BF16 and F64 are decoded (F64 rounded to nearest); other dtypes are refused.
         */
        public void readFloats(String name, float[] dst, int offset) throws IOException {
            TensorInfo t = info(name);
            checkDecodable(t);
            if (offset < 0 || t.elements() > dst.length - (long) offset)
                throw new FormatException(file, "tensor " + name + " has " + t.elements() + " elements; the buffer has room for "
                        + Math.max(0, dst.length - (long) offset) + " from offset " + offset);
            readFloats(name, 0, dst, offset, (int) t.elements());
        }

        /**
         * Elements {@code [from, from + count)} of one tensor (row-major) decoded to float32 into
         * {@code dst[offset, offset + count)}, as {@link #readFloats(String, float[], int)} decodes them. Whatever the
         * tensor's size, this holds nothing beyond the reader's {@value #BUFFER_BYTES}-byte buffer.
         */
        public synchronized void readFloats(String name, long from, float[] dst, int offset, int count) throws IOException {
            TensorInfo t = info(name);
            checkDecodable(t);
            if (from < 0 || count < 0 || from > t.elements() - count)
                throw new FormatException(file, "tensor " + name + " has " + t.elements() + " elements; asked for "
                        + count + " from element " + from);
            if (offset < 0 || count > dst.length - (long) offset)
                throw new FormatException(file, "tensor " + name + ": " + count + " elements asked for; the buffer has room for "
                        + Math.max(0, dst.length - (long) offset) + " from offset " + offset);
            if (buffer == null) buffer = ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
            int width = t.dtype().bytes, per = buffer.capacity() / width, at = offset, left = count;
            long pos = dataStart + t.begin() + from * width;
            while (left > 0) {
                int n = Math.min(left, per);
                buffer.clear().limit(n * width);
                readFully(buffer, pos);
                buffer.flip();
                decode(t.dtype(), buffer, dst, at, n);
                at += n;
                left -= n;
                pos += (long) n * width;
            }
        }

        /** n elements of dtype from b (little-endian, at position 0) into dst[at ..]. */
        private static void decode(DType dtype, ByteBuffer b, float[] dst, int at, int n) {
            switch (dtype) {
                case F32 -> b.asFloatBuffer().get(dst, at, n);
                case F64 -> {
                    var d = b.asDoubleBuffer();
                    for (int i = 0; i < n; i++) dst[at + i] = (float) d.get(i);
                }
                case BF16 -> {
                    var s = b.asShortBuffer();
                    for (int i = 0; i < n; i++) dst[at + i] = Float.intBitsToFloat((s.get(i) & 0xffff) << 16);
                }
                case F16 -> {
                    var s = b.asShortBuffer();
                    for (int i = 0; i < n; i++) dst[at + i] = halfToFloat(s.get(i));
                }
                default -> throw new AssertionError(dtype);
            }
        }

        private void checkDecodable(TensorInfo t) throws FormatException {
            if (!t.dtype().decodable())
                throw new FormatException(file, "tensor " + t.name() + " has dtype " + t.dtype()
                        + "; only F32, F16, BF16 and F64 can be read as floats");
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** Jackson's message without its source dump: the problem and where. */
    private static String jsonProblem(JsonProcessingException e) {
        String msg = e.getOriginalMessage() == null ? "malformed" : e.getOriginalMessage().lines().findFirst().orElse("malformed");
        JsonLocation loc = e.getLocation();
        return loc == null ? msg : msg + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    private static String kind(JsonNode n) {
        return n == null ? "nothing" : n.isObject() ? "an object" : n.isArray() ? "an array" : n.isTextual() ? "a string"
                : n.isNumber() ? "a number" : n.isBoolean() ? "a boolean" : "null";
    }

    /** IEEE half to float (Float.float16ToFloat arrived only in Java 20). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff, sign = (bits >>> 15) << 31, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
        if (exp == 0) {
            float v = mant * (1f / (1 << 24));
            return sign != 0 ? -v : v;
        }
        if (exp == 31) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    // ---- writing -------------------------------------------------------------------------------------------

    /**
     * Writes F32 tensors atomically: a temporary sibling (created with the umask's mode), fsync, rename over
     * {@code file}, fsync of the directory. Tensors and metadata are written in sorted name order, so equal
     * inputs give equal bytes.
     *
     * @throws IllegalArgumentException if a name is empty or {@code __metadata__}, or a shape does not match its data
     */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(ch, tensors, metadata);
            ch.force(true);
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot sync a directory; the file itself is synced
        }
    }

    /**
     * The whole file into a channel (the caller syncs and closes it), tensors and metadata in sorted order;
     * returns the bytes written. Data is written in 1 MiB pieces, never one buffer per tensor.
     */
    public static long write(WritableByteChannel ch, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Entry> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : sorted.entrySet()) {
            String name = e.getKey();
            Entry t = e.getValue();
            if (name.isEmpty() || name.equals(METADATA)) throw new IllegalArgumentException("tensor name \"" + name + "\" is not allowed");
            long count = 1;
            for (int d : t.shape()) {
                if (d < 0) throw new IllegalArgumentException("tensor " + name + " has a negative dimension " + Arrays.toString(t.shape()));
                count = Math.multiplyExact(count, d);
            }
            if (count != t.data().length)
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(t.shape()) + " but "
                        + t.data().length + " values");
            ObjectNode o = header.putObject(name);
            o.put("dtype", "F32");
            var shape = o.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long bytes = 4L * t.data().length;
            o.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] h = JSON.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;            // keeps the data 8-byte aligned, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(h);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        long total = head.remaining();
        writeFully(ch, head);
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : sorted.values()) {
            float[] d = e.data();
            for (int i = 0; i < d.length; ) {
                int n = Math.min(d.length - i, buf.capacity() / 4);
                buf.clear();
                buf.asFloatBuffer().put(d, i, n);
                buf.limit(4 * n);
                total += buf.remaining();
                writeFully(ch, buf);
                i += n;
            }
        }
        return total;
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
