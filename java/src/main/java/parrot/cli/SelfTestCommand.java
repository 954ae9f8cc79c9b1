package parrot.cli;

import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;
import parrot.results.ResultsIO;
import parrot.selftest.Candidate;
import parrot.selftest.CheckResult;
import parrot.selftest.ParitySuite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = {"Parity suite: every op and a whole training step of each model family on a backend against the "
                + "float64 CPU reference, on fresh random inputs.",
                "Exit 0: all PASSED; 1: something FAILED; 4: nothing ran (e.g. no GPU: every check SKIPPED)."})
final class SelfTestCommand implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "cuda", description = "backend under test: cuda, cuda:N or cpu (the float32 CPU backend) (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--json", description = "write every check's result here")
    Path json;

    @Option(names = "--only", paramLabel = "REGEX",
            description = "run only the checks whose name contains a match of this regular expression")
    String only;

    @Override
    public Integer call() {
        java.util.function.Predicate<String> keep;
        try {
            keep = only == null ? n -> true : java.util.regex.Pattern.compile(only).asPredicate();
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("--only: '" + only + "' is not a regular expression ("
                    + e.getDescription() + ")");
        }
        List<CheckResult> results = new ArrayList<>();
        String candName, deviceName;
        boolean emulated = false;
        try (Backend ref = new parrot.backend.cpu.f64.CpuBackend()) {
            if (device.equals("cpu")) {
                try (Candidate cand = Candidate.of(new CpuBackend())) {
                    candName = cand.main().name();
                    deviceName = "cpu";
                    results.addAll(run(ref, cand, keep));
                }
            } else {
                DeviceChoice choice = DeviceSelector.choose(device);
                if (!choice.isCuda()) {
                    candName = device + " (unavailable: " + choice.reason() + ")";
                    deviceName = "none";
                    for (var c : ParitySuite.checks(Candidate.cudaVariants()))
                        if (keep.test(c.fullName())) results.add(CheckResult.skipped(c.fullName(), choice.reason()));
                } else {
                    try (Candidate cand = Candidate.cuda(choice.ordinal())) {
                        candName = cand.main().name();
                        deviceName = cand.device();
                        emulated = cand.emulated();
                        Evidence.refuseResultsFolder(json, emulated, "--json");
                        if (emulated)
                            System.out.println("selftest: running on the " + DeviceSelector.EMULATED_DEVICE_NAME
                                    + ", the CPU implementation of the CUDA driver: nothing here is a GPU result");
                        results.addAll(run(ref, cand, keep));
                    }
                }
            }
        }
        int passed = 0, failed = 0, skipped = 0;
        for (CheckResult r : results) {
            if (r.status().equals("SKIPPED")) print(r);
            if (r.passed()) passed++;
            else if (r.failed()) failed++;
            else skipped++;
        }
        System.out.printf("selftest %s on device \"%s\"%s: %d passed, %d failed, %d skipped%n", candName, deviceName,
                emulated ? " (emulated: not a GPU result)" : "", passed, failed, skipped);
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("schema", "parrot.selftest/1");
            doc.put("git_commit", BuildInfo.gitCommit());
            doc.put("date", Instant.now().toString());
            doc.put("candidate", candName);
            doc.put("device", deviceName);
            doc.put("emulated", emulated);
            doc.put("reference", "cpu-f64");
            doc.put("only", only);
            doc.put("passed", passed);
            doc.put("failed", failed);
            doc.put("skipped", skipped);
            doc.put("checks", results);
            ResultsIO.write(json, doc);
        }
        return failed > 0 ? 1 : passed == 0 ? 4 : 0;
    }

    /** The suite's checks that --only keeps, each with its seed (its place in the whole suite, so a subset repeats). */
    private static List<CheckResult> run(Backend ref, Candidate cand, java.util.function.Predicate<String> keep) {
        List<CheckResult> out = new ArrayList<>();
        List<ParitySuite.Check> cs = ParitySuite.checks(cand.variants());
        for (int i = 0; i < cs.size(); i++)
            if (keep.test(cs.get(i).fullName())) {
                CheckResult r = ParitySuite.run(cs.get(i), i + 1, ref, cand, 1.0);
                print(r);                                   // as it goes: the whole suite takes minutes on the emulator
                out.add(r);
            }
        return out;
    }

    private static void print(CheckResult r) {
        System.out.printf("%-8s %-55s err %.2e (tol %.1e) %5.2fs %s%n", r.status(), r.name(), r.maxRelativeError(),
                r.tolerance(), r.seconds(), r.detail());
    }
}
