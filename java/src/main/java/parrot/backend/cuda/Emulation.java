package parrot.backend.cuda;

/**
 * The emulated CUDA device: build/emu-device/libcuda.so.1, a CPU implementation of the driver API that runs the
 * kernels' .cu source compiled as C++ (make emu-device). It reports this device name; everything that reports a
 * device says it, and nothing measured on it is a GPU result (no timing, cuBLAS numerics are not NVIDIA's).
 */
public final class Emulation {
    /** The device name the emulated driver reports (cuDeviceGetName). */
    public static final String DEVICE_NAME = "emulated CUDA device (CPU)";

    private Emulation() {
    }

    /** Whether a device name is the emulated device's. */
    public static boolean isEmulated(String deviceName) {
        return deviceName != null && deviceName.trim().equals(DEVICE_NAME);
    }
}
