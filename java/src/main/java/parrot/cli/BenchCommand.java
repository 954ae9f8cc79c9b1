package parrot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.bench.CpuPeak;
import parrot.bench.OpProfile;
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
            description = {"Training tokens/s of the quickstart's transformer (Hard-ALiBi), Mamba and LSTM on the CPU backend, "
                    + "the FLOP/s that makes (the model's counted forward + backward FLOPs per token) and its share of "
                    + "the processor's FP32 peak, and the same models in PyTorch (Debian's python3-torch) on the same cores."})
    static final class Cpu implements Callable<Integer> {
        @Option(names = "--steps", defaultValue = "30")
        int steps;

        @Option(names = "--warmup", defaultValue = "5")
        int warmup;

        @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "python with torch for the baseline (default ${DEFAULT-VALUE}); 'none' skips it")
        String python;

        @Option(names = "--models", split = ",", defaultValue = "transformer,mamba,lstm",
                description = "which of transformer, mamba, lstm (default ${DEFAULT-VALUE})")
        java.util.List<String> models;

        @Option(names = "--clock-ghz", description = "the clock for the peak, instead of the one read from the CPU")
        Double clockGhz;

        @Option(names = "--flops-per-cycle", description = "FP32 FLOP per cycle and core for the peak, instead of the one inferred from the CPU flags")
        Integer flopsPerCycle;

        @Option(names = "--json", description = "write the numbers here")
        Path json;

        @Option(names = "--ops", description = "after each model's timed run, run its steps again through a per-op "
                + "timer and print where a step's wall time goes, by backend op (also in the JSON)")
        boolean ops;

        @Option(names = "--same-jvm", description = "run every model in this JVM, one after another, instead of "
                + "each in a fresh one (after the transformer, this JVM's JIT had compiled the shared kernels for its "
                + "shapes, and Mamba trained at 116k tokens/s against 142k in a JVM of its own)")
        boolean sameJvm;

        @Option(names = "--row-only", hidden = true, description = "print only the model rows (a fresh JVM's part)")
        boolean rowOnly;

        private static final Map<String, String> CONFIGS = Map.of("transformer", TrainingBench.SMALL,
                "mamba", TrainingBench.MAMBA, "lstm", TrainingBench.LSTM);

        @Override
        public Integer call() throws Exception {
            for (String m : models)
                if (!CONFIGS.containsKey(m)) {
                    System.err.println("parrot: --models: unknown '" + m + "'; allowed: transformer, mamba, lstm");
                    return 2;
                }
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("schema", "parrot.bench.cpu/2");
            doc.put("git_commit", BuildInfo.gitCommit());
            doc.put("threads", Parallel.threads());
            CpuPeak peak = CpuPeak.detect(Parallel.threads()).with(clockGhz, flopsPerCycle);
            if (!rowOnly) System.out.println("peak: " + peak.describe());
            Map<String, Object> pk = new LinkedHashMap<>();
            pk.put("cores", peak.cores());
            pk.put("model", peak.model());
            pk.put("isa", peak.isa());
            pk.put("flops_per_cycle_per_core", peak.flopsPerCycle());
            pk.put("ghz", peak.ghz());
            pk.put("clock_source", peak.source());
            pk.put("flops_per_second", peak.flopsPerSecond());
            doc.put("peak", pk);
            java.util.List<Object> rows = new java.util.ArrayList<>();
            Map<String, Double> tokS = new LinkedHashMap<>();
            if (!rowOnly)
                System.out.printf("%-12s %8s %10s %12s %9s %8s %13s %8s %12s%n", "model", "params", "tokens/s",
                        "MFLOP/token", "GFLOP/s", "of peak", "pytorch tok/s", "ratio", "heap MB/step");
            for (String m : models) {
                JsonNode row = sameJvm || rowOnly ? measure(m, peak) : freshJvm(m);
                if (row == null) return 1;
                rows.add(row);
                tokS.put(m, row.get("parrot").get("tokens_per_second").asDouble());
                if (m.equals("transformer")) {                     // the schema-1 fields, kept
                    doc.put("parrot", row.get("parrot"));
                    if (row.has("pytorch_tokens_per_second")) {
                        doc.put("pytorch_tokens_per_second", row.get("pytorch_tokens_per_second"));
                        doc.put("ratio", row.get("ratio"));
                    }
                }
            }
            if (rowOnly) {
                doc.put("models", rows);
                ResultsIO.write(json, doc);
                return 0;
            }
            System.out.printf("(%d steps of 32 × 64 tokens after %d warm-up steps, each model in %s; FLOPs counted "
                    + "from the shapes, parrot.model.FlopCount)%n", steps, warmup, sameJvm ? "this JVM" : "a fresh JVM");
            Map<String, Double> rel = new LinkedHashMap<>();
            Double tf = tokS.get("transformer");
            if (tf != null)
                for (var e : tokS.entrySet())
                    if (!e.getKey().equals("transformer")) {
                        rel.put(e.getKey() + "_over_transformer", e.getValue() / tf);
                        System.out.printf("tokens/s %s / transformer: %.2fx%n", e.getKey(), e.getValue() / tf);
                    }
            doc.put("models", rows);
            doc.put("tokens_per_second_ratios", rel);
            if (json != null) ResultsIO.write(json, doc);
            return 0;
        }

        /** One model measured in this JVM, its row printed; the row as the JSON holds it. */
        private JsonNode measure(String m, CpuPeak peak) throws Exception {
            TrainingBench.Result r;
            try (Backend be = new CpuBackend()) {
                r = TrainingBench.run(be, CONFIGS.get(m), warmup, steps);
            }
            Double torch = python.equals("none") ? null : torchBaseline(m);
            double frac = r.flopsPerSecond() / peak.flopsPerSecond();
            System.out.printf("%-12s %,8d %,10.0f %12.3f %9.2f %7.1f%% %13s %8s %12s%n", m, r.parameters(),
                    r.tokensPerSecond(), r.flopsPerToken() / 1e6, r.flopsPerSecond() / 1e9, 100 * frac,
                    torch == null ? "-" : String.format("%,.0f", torch),
                    torch == null ? "-" : String.format("%.2fx", r.tokensPerSecond() / torch),
                    r.heapBytesPerStep() < 0 ? "-" : String.format("%.1f", r.heapBytesPerStep() / 1e6));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("parrot", r);
            row.put("fraction_of_peak", frac);
            if (torch != null) {
                row.put("pytorch_tokens_per_second", torch);
                row.put("ratio", r.tokensPerSecond() / torch);
            }
            if (ops) row.put("ops", profile(m));
            return ResultsIO.JSON.valueToTree(row);
        }

        /**
         * One model's row from a child JVM started with this one's options (vector module, GC, -D flags) and this
         * command's, which prints the row itself and hands it back as JSON; null (said why) when it failed.
         */
        private JsonNode freshJvm(String model) throws Exception {
            Path tmp = Files.createTempFile("parrot-bench-cpu-", ".json");
            try {
                java.util.List<String> cmd = new java.util.ArrayList<>();
                cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
                cmd.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
                        "bench", "cpu", "--row-only", "--models", model, "--steps", String.valueOf(steps),
                        "--warmup", String.valueOf(warmup), "--python", python, "--json", tmp.toString()));
                if (ops) cmd.add("--ops");
                if (clockGhz != null) cmd.add("--clock-ghz=" + clockGhz);
                if (flopsPerCycle != null) cmd.add("--flops-per-cycle=" + flopsPerCycle);
                Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
                    for (String line; (line = lines.readLine()) != null; ) System.out.println(line);  // its rows, here
                }
                if (p.waitFor() != 0) {
                    System.err.println("parrot: bench cpu: the JVM for " + model + " exited " + p.exitValue());
                    return null;
                }
                return ResultsIO.JSON.readTree(tmp.toFile()).get("models").get(0);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }

        /** The model's steps again through {@link OpProfile}: its ops' shares of the wall time, printed and returned. */
        private java.util.List<OpProfile.Op> profile(String model) {
            OpProfile prof;
            TrainingBench.Result r;
            java.util.List<OpProfile.Op> all;
            try (Backend be = new CpuBackend()) {
                prof = OpProfile.around(be);
                r = TrainingBench.run(prof.backend(), CONFIGS.get(model), warmup, steps, prof::reset);
                all = prof.ops(steps);
            }
            double inOps = all.stream().mapToDouble(OpProfile.Op::share).sum();
            System.out.printf("  %s by op (a second run of the same steps, %,.0f tokens/s, ops %.1f%% of its wall "
                    + "time; ops under 1%% not shown):%n", model, r.tokensPerSecond(), 100 * inOps);
            for (OpProfile.Op o : all)
                if (o.share() >= 0.01)
                    System.out.printf("    %5.1f%%  %7.3f ms a step  %5.0f calls a step  %s%n", 100 * o.share(),
                            o.msPerStep(), o.callsPerStep(), o.name());
            return all;
        }

        private Double torchBaseline(String model) throws Exception {
            Path script = Path.of("scripts", "bench_torch.py");
            if (!Files.isRegularFile(script) || !Files.isExecutable(Path.of(python))) {
                System.out.println("pytorch baseline: skipped (needs " + python + " with torch and " + script + ")");
                return null;
            }
            Process p = new ProcessBuilder(python, script.toString(), "--model", model, "--steps", String.valueOf(steps),
                    "--warmup", String.valueOf(warmup), "--threads", String.valueOf(Parallel.threads()))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                System.out.println("pytorch baseline (" + model + "): failed (exit " + p.exitValue() + ")");
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
            try (CudaBackend gpu = new CudaBackend(choice.ordinal()); Backend cpu = new CpuBackend()) {
                boolean emulated = gpu.emulated();
                Evidence.refuseResultsFolder(json, emulated, "--json");
                doc.put("device", gpu.name());
                doc.put("device_name", gpu.deviceName());
                doc.put("emulated", emulated);
                if (emulated) {
                    doc.put("note", "ran on the " + DeviceSelector.EMULATED_DEVICE_NAME + " (the CUDA driver implemented on the CPU): "
                            + "these are not GPU timings");
                    System.out.println("bench gpu: on the " + DeviceSelector.EMULATED_DEVICE_NAME + ": the CUDA driver implemented on "
                            + "the CPU; these are not GPU timings (the paper-scale model is left out)");
                }
                String[] configs = emulated ? new String[]{TrainingBench.SMALL}
                        : new String[]{TrainingBench.SMALL, TrainingBench.PAPER};
                for (String cfg : configs) {
                    TrainingBench.Result g = TrainingBench.run(gpu, cfg, 3, steps);
                    TrainingBench.Result c = TrainingBench.run(cpu, cfg, 1, cpuSteps);
                    double ratio = g.tokensPerSecond() / c.tokensPerSecond();
                    System.out.printf("%-6s %,d params: gpu %,.0f tokens/s, cpu %,.0f tokens/s: %.1fx%n", g.model(),
                            g.parameters(), g.tokensPerSecond(), c.tokensPerSecond(), ratio);
                    rows.add(Map.of("gpu", g, "cpu", c, "ratio_gpu_over_cpu", ratio));
                }
            }
            doc.put("training", rows);
            if (json != null) ResultsIO.write(json, doc);
            return 0;
        }
    }
}
