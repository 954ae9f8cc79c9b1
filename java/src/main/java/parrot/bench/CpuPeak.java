package parrot.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The processor's FP32 peak, cores × FLOP per cycle × clock, where FLOP per cycle = 2 (a fused multiply-add) ×
 * float lanes per FMA pipe × FMA pipes, read from /proc/cpuinfo (vendor, family, flags, clock). The pipe width is
 * not in the flags, so it is inferred: AVX-512 on AMD family 25 (Zen 4) runs on two 256-bit pipes, on other
 * AVX-512 parts two 512-bit ones are assumed; AVX2 with FMA is two 256-bit pipes; without FMA, one add and one
 * multiply pipe of 128 bits. The clock is cpufreq's maximum where the kernel exposes it, else /proc/cpuinfo's
 * "cpu MHz" (in a VM, usually the host's nominal clock). Either may be overridden; {@link #describe} says what
 * was used.
 *
 * @param source where the clock came from
 */
public record CpuPeak(int cores, String model, String isa, int flopsPerCycle, double ghz, String source) {
    public double flopsPerSecond() {
        return cores * (double) flopsPerCycle * ghz * 1e9;
    }

    public String describe() {
        return String.format("%d × %s cores, %s: %d FLOP/cycle/core × %.2f GHz (%s) = %.0f GFLOP/s FP32 peak", cores,
                model, isa, flopsPerCycle, ghz, source, flopsPerSecond() / 1e9);
    }

    /** This machine's, for the given number of cores (the threads the backend runs). */
    public static CpuPeak detect(int cores) {
        String info = read(Path.of("/proc/cpuinfo"));
        String maxKhz = read(Path.of("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"));
        return parse(info, maxKhz, cores);
    }

    private static String read(Path p) {
        try {
            return Files.isReadable(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** From the text of /proc/cpuinfo and of cpufreq's cpuinfo_max_freq (kHz; may be empty). */
    static CpuPeak parse(String cpuinfo, String maxKhz, int cores) {
        String vendor = field(cpuinfo, "vendor_id"), model = field(cpuinfo, "model name");
        String family = field(cpuinfo, "cpu family");
        Set<String> flags = new HashSet<>(Arrays.asList(field(cpuinfo, "flags").split("\\s+")));
        String isa;
        int lanes, pipes = 2;
        if (flags.contains("avx512f")) {
            boolean zen4 = vendor.equals("AuthenticAMD") && family.equals("25");
            // A VM may show a Zen 5 (two 512-bit pipes) as family 25: the 2026-12-04 host did, and make cpu-peak
            // measured 64 FLOP a cycle there. The flags cannot tell them apart, so the output says so.
            isa = zen4 ? "AVX-512 on two 256-bit FMA pipes (Zen 4; a VM may show a Zen 5, with 512-bit pipes, "
                    + "the same way: make cpu-peak measures)" : "AVX-512, two 512-bit FMA pipes assumed";
            lanes = zen4 ? 8 : 16;
        } else if (flags.contains("avx2") && flags.contains("fma")) {
            isa = "AVX2 + FMA, two 256-bit FMA pipes";
            lanes = 8;
        } else {
            isa = "no FMA: one 128-bit add and one multiply pipe";
            lanes = 4;
            pipes = 1;
        }
        double ghz;
        String source;
        if (!maxKhz.isBlank()) {
            ghz = Double.parseDouble(maxKhz.strip()) / 1e6;
            source = "cpufreq cpuinfo_max_freq";
        } else if (!field(cpuinfo, "cpu MHz").isEmpty()) {
            ghz = Double.parseDouble(field(cpuinfo, "cpu MHz")) / 1e3;
            source = "/proc/cpuinfo cpu MHz";
        } else {
            ghz = Double.NaN;
            source = "clock unknown: pass --clock-ghz";
        }
        return new CpuPeak(cores, model.isEmpty() ? "unknown CPU" : model, isa, 2 * lanes * pipes, ghz, source);
    }

    /** The same with the clock (GHz) and/or FLOP per cycle given by the user; null keeps the detected value. */
    public CpuPeak with(Double clockGhz, Integer perCycle) {
        return new CpuPeak(cores, model, perCycle == null ? isa : isa + ", FLOP/cycle given", perCycle == null
                ? flopsPerCycle : perCycle, clockGhz == null ? ghz : clockGhz, clockGhz == null ? source : "given");
    }

    /** The first "key : value" line's value for key (the first processor's), or "". */
    private static String field(String cpuinfo, String key) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals(key)) return line.substring(colon + 1).strip();
        }
        return "";
    }
}
