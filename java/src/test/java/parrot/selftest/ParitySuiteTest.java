package parrot.selftest;

import org.junit.jupiter.api.Test;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parity suite that `parrot selftest` runs on a GPU, exercised here on the float32 CPU backend against the
 * float64 one: it checks the suite (poisoning, accumulation, comparisons) and the float32 backend at once.
 */
class ParitySuiteTest {
    @Test
    void float32CpuMatchesFloat64Reference() {
        try (Backend ref = new parrot.backend.cpu.f64.CpuBackend(); Candidate cand = Candidate.of(new CpuBackend())) {
            List<CheckResult> all = ParitySuite.run(ref, cand, 1.0);
            assertEquals(ParitySuite.checks(java.util.Set.of(Candidate.DEFAULT)).size(), all.size());
            assertTrue(all.stream().anyMatch(r -> r.name().startsWith("training step mamba/")), "training steps included");
            for (CheckResult r : all) assertTrue(r.passed(), r::toString);
        }
    }

    @Test
    void checksCanFail() {
        // float32 against float64 with tolerances a million times tighter: the differences must show.
        try (Backend ref = new parrot.backend.cpu.f64.CpuBackend(); Candidate cand = Candidate.of(new CpuBackend())) {
            List<CheckResult> ops = ParitySuite.run(ref, cand, 1e-6);
            assertTrue(ops.stream().filter(CheckResult::failed).count() > ops.size() / 2, "tight tolerances must fail");
        }
        assertEquals(Double.POSITIVE_INFINITY, Pairs.error(new double[]{1, 2}, new double[]{1, Double.NaN}));
    }
}
