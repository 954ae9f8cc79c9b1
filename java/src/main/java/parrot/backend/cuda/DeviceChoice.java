package parrot.backend.cuda;

/**
 * What {@link DeviceSelector} decided, with a reason a person can read ("no libcuda.so.1: using CPU").
 * The CLI builds the backend from it: {@code CPU} → the CPU backend, {@code CUDA} → {@code new CudaBackend(ordinal)};
 * {@code UNAVAILABLE} means a CUDA device was asked for explicitly and cannot be had.
 *
 * @param kind       CPU, CUDA or UNAVAILABLE
 * @param ordinal    the CUDA device ordinal (CUDA, UNAVAILABLE), -1 for the CPU
 * @param deviceName e.g. "NVIDIA H100 80GB HBM3", "cpu", or null when unknown
 * @param reason     why this choice, for logs and the CLI
 */
public record DeviceChoice(Kind kind, int ordinal, String deviceName, String reason) {
    public enum Kind { CPU, CUDA, UNAVAILABLE }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    /** "cpu" or "cuda:N". */
    public String label() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + ordinal;
    }

    /** This choice, or an IllegalStateException carrying the reason when the requested device is unavailable. */
    public DeviceChoice orThrow() {
        if (kind == Kind.UNAVAILABLE) throw new IllegalStateException(reason);
        return this;
    }
}
