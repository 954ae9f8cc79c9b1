package parrot.bench;

import parrot.backend.cpu.CpuBackend;
import parrot.hf.HfModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a fresh JVM by `parrot bench decode`: loads a Hugging Face folder on the CPU and prints one JSON line with
 * the process's peak resident memory (VmHWM) before and after, beside the float32 weights' size.
 */
public final class LoadProbe {
    private LoadProbe() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        long before = hwmBytes();
        long t0 = System.nanoTime();
        try (CpuBackend be = new CpuBackend()) {
            HfModel m = HfModel.load(dir, be, null);
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("{\"parameters\": %d, \"float32_bytes\": %d, \"peak_rss_before\": %d, \"peak_rss_after\": %d, "
                    + "\"load_seconds\": %.3f}%n", m.parameters(), 4 * m.parameters(), before, hwmBytes(), secs);
        }
    }

    static long hwmBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        return -1;
    }
}
