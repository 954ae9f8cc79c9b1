package parrot.backend.cuda;

import java.util.HashMap;
import java.util.Map;

import jcuda.driver.CUdeviceptr;

/**
 * Named device work buffers (reduction partials, per-row losses, attention's rowsum(dO∘O)), grown on demand and
 * reused across ops. Safe because every op runs on the one stream: a buffer is only reused by work queued after
 * the work that used it before.
 */
final class Scratch implements AutoCloseable {
    private record Buffer(CUdeviceptr ptr, long bytes) {
    }

    private final CudaContext ctx;
    private final Map<String, Buffer> buffers = new HashMap<>();

    Scratch(CudaContext ctx) {
        this.ctx = ctx;
    }

    CUdeviceptr get(String name, long bytes) {
        Buffer b = buffers.get(name);
        if (b != null && b.bytes >= bytes) return b.ptr;
        if (b != null) {
            ctx.synchronize("growing scratch " + name);  // the old buffer may still be read by queued work
            ctx.free(b.ptr);
            buffers.remove(name);
        }
        long size = Math.max(bytes, b == null ? 0 : b.bytes * 2);
        CUdeviceptr p = ctx.alloc(size, "scratch buffer " + name);
        buffers.put(name, new Buffer(p, size));
        return p;
    }

    /** Bytes held by the scratch buffers now. */
    long bytes() {
        long n = 0;
        for (Buffer b : buffers.values()) n += b.bytes;
        return n;
    }

    @Override
    public void close() {
        for (Buffer b : buffers.values()) ctx.free(b.ptr);
        buffers.clear();
    }
}
