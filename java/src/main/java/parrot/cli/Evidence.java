package parrot.cli;

import parrot.backend.Backend;
import parrot.backend.cuda.CudaBackend;
import parrot.backend.cuda.DeviceSelector;

import java.nio.file.Path;

/**
 * Which device produced a result, and where results of the emulated CUDA device may not go. experiments/results/
 * holds measured results of real hardware (cpu/ and one folder per card); the emulated device (a CPU
 * implementation of the CUDA driver) produces no GPU evidence, so train, sweep, selftest and bench refuse to write
 * anywhere under it when they run on that device. Runs on it go to runs/ (the default) or any other folder.
 */
final class Evidence {
    private Evidence() {
    }

    /** The device's own name: a card's ("NVIDIA H100 80GB HBM3"), {@link DeviceSelector#EMULATED_DEVICE_NAME}, or "cpu". */
    static String device(Backend be) {
        return be instanceof CudaBackend g ? g.deviceName() : "cpu";
    }

    static boolean emulated(Backend be) {
        return be instanceof CudaBackend g && g.emulated();
    }

    /** Throws (one line, naming the flag) when an emulated run would write under experiments/results/. */
    static void refuseResultsFolder(Path out, boolean emulated, String flag) {
        if (!emulated || out == null || !underResults(out)) return;
        throw new IllegalArgumentException(flag + " " + out + ": experiments/results/ holds results measured on real "
                + "hardware; this run is on the " + DeviceSelector.EMULATED_DEVICE_NAME + ", whose output is not a GPU result. "
                + "Write it elsewhere (e.g. runs/)");
    }

    /** Whether a path lies in a folder experiments/results (at any depth; relative paths from the working dir). */
    static boolean underResults(Path out) {
        Path p = out.toAbsolutePath().normalize();
        for (int i = 0; i + 1 < p.getNameCount(); i++)
            if (p.getName(i).toString().equals("experiments") && p.getName(i + 1).toString().equals("results"))
                return true;
        return false;
    }
}
