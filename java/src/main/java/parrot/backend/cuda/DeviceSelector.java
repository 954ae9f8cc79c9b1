package parrot.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Parses {@code auto | cpu | cuda | cuda:N} and decides where to run. Never throws because a driver or device is
 * missing (JCuda fails to load its native library with an UnsatisfiedLinkError when libcuda.so.1 is absent; every
 * Throwable of the probe is caught and turned into a reason); only a malformed device string is an error.
 *
 * <p>{@code auto} takes CUDA device 0 when libcuda loads, a device exists, its compute capability is at least 8.0
 * and this build carries the PTX kernels; otherwise the CPU, saying why. The emulated CUDA device
 * (build/emu-device: a CPU libcuda.so.1 on LD_LIBRARY_PATH, see cuda-kernels/README.md) is never chosen by
 * {@code auto}, being far slower than the CPU backend; {@code --device cuda} runs on it.
 */
public final class DeviceSelector {
    private static final Pattern SPEC = Pattern.compile("auto|cpu|cuda(?::(\\d+))?");
    /** The name the emulated CUDA device reports (cuda-kernels/emu/device); {@link #isEmulated} is the one test. */
    public static final String EMULATED_DEVICE_NAME = "emulated CUDA device (CPU)";
    private static volatile Probe probe;

    private DeviceSelector() {
    }

    /** A parsed device string: AUTO, CPU or CUDA with an ordinal. */
    public record Request(Mode mode, int ordinal) {
        public enum Mode { AUTO, CPU, CUDA }
    }

    /** One CUDA device as the driver reports it. */
    public record Gpu(int ordinal, String name, int ccMajor, int ccMinor, long totalMemory) {
        public String computeCapability() {
            return ccMajor + "." + ccMinor;
        }

        /** The emulated CUDA device (a CPU driver), not a card: its results are never GPU results. */
        public boolean emulated() {
            return isEmulated(name);
        }
    }

    /** Whether a device name is the emulated CUDA device's; everything that labels results asks this. */
    public static boolean isEmulated(String deviceName) {
        return EMULATED_DEVICE_NAME.equals(deviceName);
    }

    /**
     * What the CUDA driver offers on this machine.
     *
     * @param driverLoaded  libcuda.so.1 and JCuda's native library loaded and cuInit succeeded
     * @param driverVersion e.g. 12040 (0 when unknown)
     * @param gpus          devices found (empty when none or the driver is absent)
     * @param problem       null when at least one device was found, else why not
     */
    public record Probe(boolean driverLoaded, int driverVersion, List<Gpu> gpus, String problem) {
        public boolean hasGpu() {
            return !gpus.isEmpty();
        }
    }

    public static Request parse(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        Matcher m = SPEC.matcher(s);
        if (!m.matches())
            throw new IllegalArgumentException("device must be auto, cpu, cuda or cuda:N, got '" + spec + "'");
        if (s.equals("auto")) return new Request(Request.Mode.AUTO, 0);
        if (s.equals("cpu")) return new Request(Request.Mode.CPU, -1);
        return new Request(Request.Mode.CUDA, m.group(1) == null ? 0 : Integer.parseInt(m.group(1)));
    }

    /** Parses the device string and decides; see the class comment. */
    public static DeviceChoice choose(String spec) {
        Request r = parse(spec);
        if (r.mode() == Request.Mode.CPU) return new DeviceChoice(DeviceChoice.Kind.CPU, -1, "cpu", "cpu requested");
        boolean auto = r.mode() == Request.Mode.AUTO;
        String problem = cudaProblem(probe(), r.ordinal());
        if (problem == null && auto && probe().gpus().get(r.ordinal()).emulated())
            problem = "cuda:" + r.ordinal() + " is the " + EMULATED_DEVICE_NAME
                    + ", too slow to pick automatically (--device cuda runs on it)";
        if (problem == null) {
            Gpu g = probe().gpus().get(r.ordinal());
            return new DeviceChoice(DeviceChoice.Kind.CUDA, r.ordinal(), g.name(), "cuda:" + r.ordinal() + " "
                    + g.name() + " (compute capability " + g.computeCapability() + ", driver API "
                    + CudaContext.versionString(probe().driverVersion()) + ")"
                    + (auto ? ": using CUDA" : " requested"));
        }
        if (auto) return new DeviceChoice(DeviceChoice.Kind.CPU, -1, "cpu", problem + ": using CPU");
        return new DeviceChoice(DeviceChoice.Kind.UNAVAILABLE, r.ordinal(), null,
                "cuda:" + r.ordinal() + " requested but unavailable: " + problem);
    }

    /** Why CUDA device {@code ordinal} cannot run parrot, or null when it can. */
    static String cudaProblem(Probe p, int ordinal) {
        if (p.problem() != null) return p.problem();
        if (ordinal >= p.gpus().size())
            return "no CUDA device " + ordinal + " (" + p.gpus().size() + " present)";
        Gpu g = p.gpus().get(ordinal);
        if (PtxResources.archFor(g.ccMajor(), g.ccMinor()) == null)
            return "cuda:" + ordinal + " " + g.name() + " has compute capability " + g.computeCapability()
                    + ", parrot's kernels need 8.0 or newer";
        if (!PtxResources.built())
            return "this build carries no PTX kernels (built without nvcc)";
        return null;
    }

    /** True when {@code auto} would pick CUDA device 0 (never the emulated device). */
    public static boolean cudaAvailable() {
        return cudaUsable() && !probe().gpus().get(0).emulated();
    }

    /** True when {@code --device cuda} would run on device 0: a GPU, or the emulated CUDA device. */
    public static boolean cudaUsable() {
        return cudaProblem(probe(), 0) == null;
    }

    /** True when device 0 is usable and is the emulated CUDA device. */
    public static boolean cudaEmulated() {
        return cudaUsable() && probe().gpus().get(0).emulated();
    }

    /** Probes the driver once per JVM (a failed native load cannot be retried anyway). */
    public static Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (DeviceSelector.class) {
                if (probe == null) probe = runProbe();
                p = probe;
            }
        }
        return p;
    }

    private static Probe runProbe() {
        int version = 0;
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int rc = JCudaDriver.cuInit(0);
            int[] v = new int[1];
            if (JCudaDriver.cuDriverGetVersion(v) == 0) version = v[0];
            if (rc != 0)
                return new Probe(false, version, List.of(), "CUDA driver present but cuInit failed ("
                        + CudaException.errorName(rc) + ")");
            int[] count = new int[1];
            rc = JCudaDriver.cuDeviceGetCount(count);
            if (rc != 0)
                return new Probe(true, version, List.of(), "cuDeviceGetCount failed (" + CudaException.errorName(rc) + ")");
            if (count[0] == 0) return new Probe(true, version, List.of(), "CUDA driver present but no CUDA device");
            List<Gpu> gpus = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) {
                CUdevice d = new CUdevice();
                CudaException.check(JCudaDriver.cuDeviceGet(d, i), "cuDeviceGet(" + i + ")");
                int[] major = new int[1], minor = new int[1];
                long[] mem = new long[1];
                JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
                JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
                JCudaDriver.cuDeviceTotalMem(mem, d);
                gpus.add(new Gpu(i, CudaContext.deviceName(d), major[0], minor[0], mem[0]));
            }
            return new Probe(true, version, List.copyOf(gpus), null);
        } catch (Throwable t) {
            return new Probe(false, version, List.of(), describeLoadFailure(t));
        }
    }

    static String describeLoadFailure(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        for (Throwable c = t; c != null; c = c.getCause())
            if (String.valueOf(c.getMessage()).contains("libcuda")) return "no libcuda.so.1";
        if (t instanceof UnsatisfiedLinkError || t instanceof NoClassDefFoundError)
            return "CUDA driver library could not be loaded (" + t.getClass().getSimpleName() + ": " + msg + ")";
        return "CUDA probe failed (" + t.getClass().getSimpleName() + ": " + msg + ")";
    }
}
