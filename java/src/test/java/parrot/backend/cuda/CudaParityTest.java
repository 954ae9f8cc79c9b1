package parrot.backend.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import parrot.backend.Backend;
import parrot.selftest.Candidate;
import parrot.selftest.CheckResult;
import parrot.selftest.ParitySuite;

/**
 * The parity suite (parrot.selftest.ParitySuite, the same one `parrot selftest --device cuda` runs) on CUDA
 * device 0, one dynamic test per check so each is reported by name. On a real card it runs on the card; in
 * `make test` it runs on the emulated CUDA device (build/emu-device on LD_LIBRARY_PATH). The device is printed
 * first and named in every failure. Without any CUDA device: SKIPPED, with the reason.
 */
class CudaParityTest {
    private static Candidate cand;
    private static Backend ref;

    @TestFactory
    List<DynamicTest> paritySuite() {
        DeviceChoice choice = DeviceSelector.choose("cuda");
        if (!choice.isCuda()) {     // every check reported SKIPPED by name, with the reason
            String why = "no CUDA device: SKIPPED (" + choice.reason() + ")";
            return ParitySuite.checks(Candidate.cudaVariants()).stream()
                    .map(c -> DynamicTest.dynamicTest(c.fullName(), () -> assumeTrue(false, why))).toList();
        }
        cand = Candidate.cuda(choice.ordinal());
        ref = new parrot.backend.cpu.f64.CpuBackend();
        String device = cand.device() + (cand.emulated() ? " (emulated: not a GPU result)" : "");
        System.out.println("parity: " + cand.main().name() + " [" + device + "], GEMM "
                + ((CudaBackend) cand.main()).gemmDescription() + ", variants " + cand.variants() + ", vs cpu-f64");
        List<ParitySuite.Check> checks = ParitySuite.checks(cand.variants());
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < checks.size(); i++) {
            ParitySuite.Check c = checks.get(i);
            long seed = i + 1;
            tests.add(DynamicTest.dynamicTest(c.fullName(), () -> {
                CheckResult r = ParitySuite.run(c, seed, ref, cand, 1.0);
                assumeTrue(!r.status().equals("SKIPPED"), r.detail());
                if (!r.passed())
                    fail(String.format("%s on %s: relative error %.3g > %.1g; %s", r.name(), device,
                            r.maxRelativeError(), r.tolerance(), r.detail()));
            }));
        }
        return tests;
    }

    @AfterAll
    static void tearDown() {
        if (cand != null) cand.close();
        if (ref != null) ref.close();
    }
}
