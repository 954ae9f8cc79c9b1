package parrot.bench;

import parrot.backend.cpu.CpuBackend;
import parrot.hf.HfConfig;
import parrot.hf.HfWeights;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a fresh JVM by `parrot bench decode`: loads a Hugging Face folder on the CPU, as HfModel.load does, and
 * prints one JSON line with the process's peak resident memory (VmHWM) before, once the parameters are allocated
 * (zeros, no file read yet) and after the weights are read into them, beside the float32 weights' size: the last
 * two apart say what reading the files adds over holding the model.
 */
public final class LoadProbe {
    private LoadProbe() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        long before = hwmBytes();
        long t0 = System.nanoTime();
        try (CpuBackend be = new CpuBackend()) {
            HfConfig cfg = HfConfig.read(dir, "probe");
            LanguageModel m = ModelFactory.createForInference(cfg.model(), cfg.vocabSize(), be);
            long allocated = hwmBytes();
            HfWeights.load(m, dir);
            double secs = (System.nanoTime() - t0) / 1e9;
            long n = m.parameters().count();
            System.out.printf("{\"parameters\": %d, \"float32_bytes\": %d, \"peak_rss_before\": %d, \"peak_rss_allocated\": %d, "
                    + "\"peak_rss_after\": %d, \"load_seconds\": %.3f}%n", n, 4 * n, before, allocated, hwmBytes(), secs);
        }
    }

    static long hwmBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        return -1;
    }
}
