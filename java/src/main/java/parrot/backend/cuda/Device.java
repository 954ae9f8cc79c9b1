package parrot.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * What the launchers need from the device: launch a kernel, a named scratch buffer, read back a few bytes.
 * {@link CudaContext} is the real one; tests drive the launchers with a recording stand-in (no GPU needed).
 */
interface Device {
    void launch(CudaModule module, String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args);

    /** A device work buffer of at least {@code bytes}, reused by name (see {@link Scratch}). */
    CUdeviceptr scratch(String name, long bytes);

    /** Device → host after the queued work has finished. */
    void download(Pointer dst, CUdeviceptr src, long bytes);

    /** Launch limits every launch must respect (CUDA: 1024 threads a block, grid y and z ≤ 65535, 48 KiB smem). */
    static void checkShape(String kernel, Dim3 grid, Dim3 block, int sharedBytes) {
        if (grid.empty() || block.empty())
            throw new IllegalArgumentException("launcher bug: kernel " + kernel + ": empty launch, grid " + grid + " block " + block);
        long threads = (long) block.x() * block.y() * block.z();
        if (threads > 1024 || block.z() > 64)
            throw new IllegalArgumentException("kernel " + kernel + ": block " + block + " exceeds 1024 threads");
        if (grid.y() > 65535 || grid.z() > 65535)
            throw new IllegalArgumentException("kernel " + kernel + ": grid " + grid + " exceeds 65535 in y or z");
        if (sharedBytes > 48 * 1024)
            throw new IllegalArgumentException("kernel " + kernel + ": " + sharedBytes + " bytes of dynamic smem");
    }

    /** The arguments must match the kernel's declared signature (KernelFamilies), letter for letter. */
    static void checkSignature(String kernel, KernelArgs args) {
        String expected = KernelFamilies.signature(kernel);
        if (!expected.equals(args.signature()))
            throw new IllegalStateException("launcher bug: kernel " + kernel + " takes (" + expected
                    + ") but was given (" + args.signature() + ")");
    }

    /**
     * Host → device copy of a small table (the pointer, size and work lists of the multi-tensor kernels), after the
     * queued work has finished. Devices that cannot (test stand-ins) refuse.
     */
    default void uploadTable(CUdeviceptr dst, Pointer src, long bytes) {
        throw new UnsupportedOperationException("this device does not upload tables");
    }
}
