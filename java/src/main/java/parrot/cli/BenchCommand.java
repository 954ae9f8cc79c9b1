package parrot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.bench.TrainingBench;
import parrot.backend.cuda.CudaBackend;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;
import parrot.backend.cpu.common.Parallel;
import parrot.results.ResultsIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print ratios against a baseline measured in the same run.",
        subcommands = {BenchCommand.Cpu.class, BenchCommand.Gpu.class, DecodeBenchCommand.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "cpu", mixinStandardHelpOptions = true,
            description = "Training tokens/s of the calibration model on the CPU backend, and the same model in PyTorch (Debian's python3-torch) on the same cores.")
    static final class Cpu implements Callable<Integer> {
        @Option(names = "--steps", defaultValue = "30")
        int steps;

        @Option(names = "--warmup", defaultValue = "5")
        int warmup;

        @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "python with torch for the baseline (default ${DEFAULT-VALUE}); 'none' skips it")
        String python;

        @Option(names = "--json", description = "write the numbers here")
        Path json;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("schema", "parrot.bench.cpu/1");
            doc.put("git_commit", BuildInfo.gitCommit());
            doc.put("threads", Parallel.threads());
            TrainingBench.Result r;
            try (Backend be = new CpuBackend()) {
                r = TrainingBench.run(be, TrainingBench.SMALL, warmup, steps);
            }
            System.out.printf("parrot %s: %,.0f tokens/s (%d steps of %d tokens in %.2f s)%n", r.backend(),
                    r.tokensPerSecond(), r.steps(), r.tokensPerStep(), r.seconds());
            doc.put("parrot", r);
            Double torch = python.equals("none") ? null : torchBaseline();
            if (torch != null) {
                System.out.printf("pytorch (cpu, %d threads): %,.0f tokens/s%n", Parallel.threads(), torch);
                System.out.printf("ratio parrot/pytorch: %.2fx%n", r.tokensPerSecond() / torch);
                doc.put("pytorch_tokens_per_second", torch);
                doc.put("ratio", r.tokensPerSecond() / torch);
            }
            if (json != null) ResultsIO.write(json, doc);
            return 0;
        }

        private Double torchBaseline() throws Exception {
            Path script = Path.of("scripts", "bench_torch.py");
            if (!Files.isRegularFile(script) || !Files.isExecutable(Path.of(python))) {
                System.out.println("pytorch baseline: skipped (needs " + python + " with torch and " + script + ")");
                return null;
            }
            Process p = new ProcessBuilder(python, script.toString(), "--steps", String.valueOf(steps), "--warmup",
                    String.valueOf(warmup), "--threads", String.valueOf(Parallel.threads()))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                System.out.println("pytorch baseline: failed (exit " + p.exitValue() + ")");
                return null;
            }
            String last = out.substring(out.lastIndexOf('\n') + 1);
            JsonNode n = ResultsIO.JSON.readTree(last);
            return n.get("tokens_per_second").asDouble();
        }
    }

    @Command(name = "gpu", mixinStandardHelpOptions = true,
            description = {"Training tokens/s on the GPU against the CPU backend in the same run: the calibration model, "
                    + "and the paper's 12 × 1024 transformer (the CPU runs only a few of its steps).",
                    "Exit 4 when there is no GPU."})
    static final class Gpu implements Callable<Integer> {
        @Option(names = "--device", defaultValue = "cuda")
        String device;

        @Option(names = "--steps", defaultValue = "50")
        int steps;

        @Option(names = "--cpu-steps", defaultValue = "3", description = "steps of each model on the CPU baseline")
        int cpuSteps;

        @Option(names = "--json", description = "write the numbers here")
        Path json;

        @Override
        public Integer call() {
            DeviceChoice choice = DeviceSelector.choose(device);
            if (!choice.isCuda()) {
                System.out.println("bench gpu: SKIPPED (" + choice.reason() + ")");
                return 4;
            }
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("schema", "parrot.bench.gpu/1");
            doc.put("git_commit", BuildInfo.gitCommit());
            doc.put("date", java.time.Instant.now().toString());
            java.util.List<Object> rows = new java.util.ArrayList<>();
            try (Backend gpu = new CudaBackend(choice.ordinal()); Backend cpu = new CpuBackend()) {
                for (String cfg : new String[]{TrainingBench.SMALL, TrainingBench.PAPER}) {
                    TrainingBench.Result g = TrainingBench.run(gpu, cfg, 3, steps);
                    TrainingBench.Result c = TrainingBench.run(cpu, cfg, 1, cpuSteps);
                    double ratio = g.tokensPerSecond() / c.tokensPerSecond();
                    System.out.printf("%-6s %,d params: gpu %,.0f tokens/s, cpu %,.0f tokens/s: %.1fx%n", g.model(),
                            g.parameters(), g.tokensPerSecond(), c.tokensPerSecond(), ratio);
                    rows.add(Map.of("gpu", g, "cpu", c, "ratio_gpu_over_cpu", ratio));
                }
                doc.put("device", gpu.name());
            }
            doc.put("training", rows);
            if (json != null) ResultsIO.write(json, doc);
            return 0;
        }
    }
}
