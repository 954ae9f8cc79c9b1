package parrot.cli;

import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.backend.cuda.CudaBackend;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;
import parrot.results.ResultsIO;
import parrot.selftest.CheckResult;
import parrot.selftest.OpParity;
import parrot.selftest.TrainingStepParity;
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

    @Override
    public Integer call() {
        List<CheckResult> results = new ArrayList<>();
        String candName;
        try (Backend ref = new parrot.backend.cpu.f64.CpuBackend()) {
            if (device.equals("cpu")) {
                try (Backend cand = new CpuBackend()) {
                    candName = cand.name();
                    results.addAll(OpParity.run(ref, cand, 1.0));
                    results.addAll(TrainingStepParity.run(ref, cand, 1e-3));
                }
            } else {
                DeviceChoice choice = DeviceSelector.choose(device);
                if (!choice.isCuda()) {
                    candName = device + " (unavailable: " + choice.reason() + ")";
                    for (var c : OpParity.checks()) results.add(CheckResult.skipped(c.name(), choice.reason()));
                    for (String m : TrainingStepParity.names()) results.add(CheckResult.skipped(m, choice.reason()));
                } else {
                    try (Backend cand = new CudaBackend(choice.ordinal())) {
                        candName = cand.name();
                        results.addAll(OpParity.run(ref, cand, 1.0));
                        results.addAll(TrainingStepParity.run(ref, cand, 1e-3));
                    }
                }
            }
        }
        int passed = 0, failed = 0, skipped = 0;
        for (CheckResult r : results) {
            System.out.printf("%-8s %-55s err %.2e (tol %.1e) %s%n", r.status(), r.name(), r.maxRelativeError(), r.tolerance(), r.detail());
            if (r.passed()) passed++;
            else if (r.failed()) failed++;
            else skipped++;
        }
        System.out.printf("selftest %s: %d passed, %d failed, %d skipped%n", candName, passed, failed, skipped);
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("schema", "parrot.selftest/1");
            doc.put("git_commit", BuildInfo.gitCommit());
            doc.put("date", Instant.now().toString());
            doc.put("candidate", candName);
            doc.put("reference", "cpu-f64");
            doc.put("passed", passed);
            doc.put("failed", failed);
            doc.put("skipped", skipped);
            doc.put("checks", results);
            ResultsIO.write(json, doc);
        }
        return failed > 0 ? 1 : passed == 0 ? 4 : 0;
    }
}
