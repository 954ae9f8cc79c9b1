package parrot.backend.cuda;

import java.nio.charset.StandardCharsets;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The device, its primary context and the one stream every op runs on, plus checked wrappers of the driver calls
 * the backend makes. Every failure raises a {@link CudaException} that says what was being done.
 *
 * <p>Kernel launches are asynchronous, so an error inside a kernel surfaces at the next synchronizing call; the
 * message then names the last kernel launched. Set {@code PARROT_CUDA_SYNC=1} (or {@code -Dparrot.cuda.sync=true})
 * to synchronize after every launch and pin the failure on its kernel.
 */
final class CudaContext implements Device, AutoCloseable {
    private static final ThreadLocal<CUcontext> CURRENT = new ThreadLocal<>();

    final int ordinal;
    final CUdevice device = new CUdevice();
    final String deviceName;
    final int ccMajor;
    final int ccMinor;
    final int multiprocessors;
    final int driverVersion;
    final CUstream stream = new CUstream();
    private final CUcontext context = new CUcontext();
    private final boolean syncEveryLaunch;
    private final Scratch scratch = new Scratch(this);
    private boolean retained;
    private boolean streamCreated;
    private String lastLaunch = "none";

    CudaContext(int ordinal) {
        this.ordinal = ordinal;
        try {
            JCudaDriver.setExceptionsEnabled(false);      // loads libJCudaDriver, which needs libcuda.so.1
        } catch (Throwable t) {
            throw new CudaException("CUDA driver unavailable: " + DeviceSelector.describeLoadFailure(t), -1, t);
        }
        CudaException.check(JCudaDriver.cuInit(0), "cuInit");
        int[] v = new int[1];
        CudaException.check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
        driverVersion = v[0];
        int[] count = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0])
            throw new CudaException("no CUDA device " + ordinal + ": " + count[0] + " device(s) present");
        CudaException.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        deviceName = deviceName(device);
        ccMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ccMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        String env = System.getenv("PARROT_CUDA_SYNC");
        syncEveryLaunch = Boolean.getBoolean("parrot.cuda.sync") || "1".equals(env) || "true".equalsIgnoreCase(env);
        try {
            CudaException.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device),
                    "cuDevicePrimaryCtxRetain(" + ordinal + ")");
            retained = true;
            makeCurrent();
            CudaException.check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
            streamCreated = true;
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    static String deviceName(CUdevice device) {
        byte[] name = new byte[256];
        CudaException.check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int n = 0;
        while (n < name.length && name[n] != 0) n++;
        return new String(name, 0, n, StandardCharsets.US_ASCII);
    }

    static String versionString(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    private int attribute(int attr) {
        int[] r = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetAttribute(r, attr, device), "cuDeviceGetAttribute(" + attr + ")");
        return r[0];
    }

    /** Binds this context to the calling thread (once per thread; cheap afterwards). */
    void makeCurrent() {
        if (CURRENT.get() != context) {
            CudaException.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(cuda:" + ordinal + ")");
            CURRENT.set(context);
        }
    }

    // ---- memory --------------------------------------------------------------------------------------------

    /** Free and total device memory in bytes. */
    long[] memInfo() {
        long[] free = new long[1], total = new long[1];
        CudaException.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    CUdeviceptr alloc(long bytes, String what) {
        CUdeviceptr p = new CUdeviceptr();
        int rc = JCudaDriver.cuMemAlloc(p, Math.max(4, bytes));
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            String mem;
            try {
                long[] info = memInfo();
                mem = mib(info[0]) + " free of " + mib(info[1]);
            } catch (RuntimeException e) {
                mem = "free memory unknown (" + e.getMessage() + ")";
            }
            throw new CudaException("out of GPU memory on cuda:" + ordinal + " allocating " + what + ": asked "
                    + bytes + " bytes (" + mib(bytes) + "), " + mem + ": CUDA_ERROR_OUT_OF_MEMORY", rc, null);
        }
        CudaException.check(rc, "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        return p;
    }

    void free(CUdeviceptr p) {
        CudaException.check(JCudaDriver.cuMemFree(p), "cuMemFree");
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    void memsetZero(CUdeviceptr p, long words) {
        if (words == 0) return;
        CudaException.check(JCudaDriver.cuMemsetD32Async(p, 0, words, stream), "cuMemsetD32Async(" + words + " words)");
    }

    void copyDtoD(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        if (bytes == 0) return;
        CudaException.check(JCudaDriver.cuMemcpyDtoDAsync(dst, src, bytes, stream),
                "cuMemcpyDtoDAsync(" + bytes + " bytes)");
    }

    /** Host → device; waits for the stream first so nothing queued still uses dst. */
    void upload(CUdeviceptr dst, Pointer src, long bytes) {
        if (bytes == 0) return;
        synchronize("before upload");
        CudaException.check(JCudaDriver.cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD(" + bytes + " bytes)");
    }

    /** Device → host after the stream has drained. */
    @Override
    public void download(Pointer dst, CUdeviceptr src, long bytes) {
        if (bytes == 0) return;
        synchronize("before download");
        CudaException.check(JCudaDriver.cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH(" + bytes + " bytes)");
    }

    @Override
    public CUdeviceptr scratch(String name, long bytes) {
        return scratch.get(name, bytes);
    }

    void synchronize(String what) {
        int rc = JCudaDriver.cuStreamSynchronize(stream);
        if (rc != 0)
            throw new CudaException("cuStreamSynchronize (" + what + ") failed: " + CudaException.errorName(rc)
                    + "; last kernel launched: " + lastLaunch
                    + " (set PARROT_CUDA_SYNC=1 to synchronize after every launch)", rc, null);
    }

    // ---- launches ------------------------------------------------------------------------------------------

    @Override
    public void launch(CudaModule module, String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        Device.checkSignature(kernel, args);
        Device.checkShape(kernel, grid, block, sharedBytes);
        CUfunction f = module.function(kernel);
        int rc = JCudaDriver.cuLaunchKernel(f, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(),
                sharedBytes, stream, args.toPointer(), null);
        if (rc != 0)
            throw new CudaException("launching kernel " + kernel + " (" + module.family() + ".cu) grid " + grid
                    + " block " + block + " smem " + sharedBytes + " bytes failed: " + CudaException.errorName(rc),
                    rc, null);
        if (syncEveryLaunch) {
            rc = JCudaDriver.cuStreamSynchronize(stream);
            if (rc != 0)
                throw new CudaException("kernel " + kernel + " (" + module.family() + ".cu) grid " + grid + " block "
                        + block + " failed while running: " + CudaException.errorName(rc), rc, null);
        } else {
            lastLaunch = kernel + " grid " + grid + " block " + block;
        }
    }

    @Override
    public void close() {
        try {
            scratch.close();
        } catch (RuntimeException ignored) {
            // the context goes away below anyway
        }
        if (streamCreated) {
            streamCreated = false;
            JCudaDriver.cuStreamSynchronize(stream);
            JCudaDriver.cuStreamDestroy(stream);
        }
        if (retained) {
            retained = false;
            if (CURRENT.get() == context) CURRENT.remove();
            // A GPU driver frees what is left; the emulated device can report it (PARROT_EMU_LEAKS=fail), which
            // is how a missing free in a launcher fails the tests instead of going unnoticed.
            int rc = JCudaDriver.cuDevicePrimaryCtxRelease(device);
            if (rc != 0)
                throw new CudaException("cuDevicePrimaryCtxRelease(cuda:" + ordinal + ") failed: "
                        + CudaException.errorName(rc) + (rc == CUresult.CUDA_ERROR_ILLEGAL_STATE
                        ? " (device memory was still allocated at release: a missing free)" : ""), rc, null);
        }
    }

    @Override
    public void uploadTable(CUdeviceptr dst, Pointer src, long bytes) {
        upload(dst, src, bytes);
    }
}
