package parrot.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FP32 peak from /proc/cpuinfo texts of the kinds of machine parrot runs on. */
class CpuPeakTest {
    private static String cpuinfo(String vendor, int family, String mhz, String flags) {
        return "processor\t: 0\nvendor_id\t: " + vendor + "\ncpu family\t: " + family + "\nmodel name\t: Test CPU\n"
                + "cpu MHz\t\t: " + mhz + "\nflags\t\t: fpu sse sse2 " + flags + "\n\nprocessor\t: 1\ncpu MHz\t\t: 1.0\n";
    }

    @Test
    void zen4AvxFiveTwelveRunsOnTwo256BitPipes() {
        CpuPeak p = CpuPeak.parse(cpuinfo("AuthenticAMD", 25, "2600.000", "fma avx2 avx512f avx512bw"), "", 2);
        assertEquals(32, p.flopsPerCycle());                   // 2 pipes × 8 lanes × 2 (FMA)
        assertEquals(2.6, p.ghz(), 1e-12);
        assertEquals(166.4e9, p.flopsPerSecond(), 1e3);
        assertTrue(p.describe().contains("/proc/cpuinfo cpu MHz"), p.describe());
        assertTrue(p.describe().contains("make cpu-peak"), "says that a hidden Zen 5 doubles it: " + p.describe());
    }

    @Test
    void otherAvx512AndAvx2AndNoFma() {
        assertEquals(64, CpuPeak.parse(cpuinfo("GenuineIntel", 6, "2000", "fma avx2 avx512f"), "", 1).flopsPerCycle());
        assertEquals(32, CpuPeak.parse(cpuinfo("AuthenticAMD", 25, "2445.4", "fma avx avx2"), "", 1).flopsPerCycle());
        assertEquals(8, CpuPeak.parse(cpuinfo("GenuineIntel", 6, "2000", "avx"), "", 1).flopsPerCycle());
    }

    @Test
    void cpufreqMaximumWinsAndOverridesAreSaid() {
        CpuPeak p = CpuPeak.parse(cpuinfo("AuthenticAMD", 25, "1500", "fma avx2"), "3700000\n", 4);
        assertEquals(3.7, p.ghz(), 1e-12);
        assertTrue(p.source().contains("cpufreq"));
        CpuPeak q = p.with(2.0, 16);
        assertEquals(4 * 16 * 2.0e9, q.flopsPerSecond(), 1);
        assertTrue(q.describe().contains("given"), q.describe());
        assertTrue(Double.isNaN(CpuPeak.parse("", "", 1).ghz()));
    }
}
