package parrot.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (8-byte little-endian header length, JSON header, raw little-endian data), so a
 * checkpoint loads with safetensors.torch.load_file. F32 tensors in, F32 out; F64 and BF16/F16 files are read
 * too, converted to float.
 */
public final class SafeTensors {
    public record Entry(int[] shape, float[] data) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensors() {
    }

    /** Writes atomically: temporary file, fsync, rename. */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            write(ch, tensors, metadata);
            ch.force(true);
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The whole file into a channel (the caller syncs and closes it); returns the bytes written. */
    public static long write(WritableByteChannel ch, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long bytes = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
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
        for (Entry e : tensors.values()) {
            ByteBuffer b = ByteBuffer.allocate(4 * e.data().length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(e.data());
            total += b.remaining();
            writeFully(ch, b);
        }
        return total;
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Reads every tensor; a truncated or inconsistent file is refused with the reason. */
    public static Map<String, Entry> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) throw new IOException(file + ": not a safetensors file (shorter than its header length)");
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong();
        if (n <= 0 || 8 + n > all.length)
            throw new IOException(file + ": header length " + n + " does not fit in " + all.length + " bytes (truncated?)");
        JsonNode header = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        int dataStart = (int) (8 + n);
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) continue;
            JsonNode t = f.getValue();
            String dtype = t.get("dtype").asText();
            int[] shape = new int[t.get("shape").size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) count *= shape[i] = t.get("shape").get(i).asInt();
            long begin = t.get("data_offsets").get(0).asLong(), end = t.get("data_offsets").get(1).asLong();
            int width = switch (dtype) {
                case "F32" -> 4;
                case "F64" -> 8;
                case "BF16", "F16" -> 2;
                default -> throw new IOException(file + ": tensor " + f.getKey() + " has dtype " + dtype + "; supported: F32, F64, BF16, F16");
            };
            if (end - begin != count * width || dataStart + end > all.length)
                throw new IOException(file + ": tensor " + f.getKey() + " data [" + begin + ", " + end + ") is inconsistent with its shape or the file size (truncated?)");
            ByteBuffer d = ByteBuffer.wrap(all, (int) (dataStart + begin), (int) (end - begin)).slice().order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[(int) count];
            for (int i = 0; i < v.length; i++) {
                v[i] = switch (dtype) {
                    case "F32" -> d.getFloat();
                    case "F64" -> (float) d.getDouble();
                    case "BF16" -> Float.intBitsToFloat((d.getShort() & 0xffff) << 16);
                    default -> halfToFloat(d.getShort());
                };
            }
            out.put(f.getKey(), new Entry(shape, v));
        }
        return out;
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

    public static Map<String, String> metadata(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong();
        JsonNode meta = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8)).get("__metadata__");
        Map<String, String> out = new LinkedHashMap<>();
        if (meta != null) meta.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
