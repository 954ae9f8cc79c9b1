package parrot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.backend.cpu.common.Parallel;
import parrot.bench.DecodeBench;
import parrot.bench.LoadProbe;
import parrot.results.ResultsIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

@Command(name = "decode", mixinStandardHelpOptions = true,
        description = {"Greedy-decoding tokens/s of a Pythia-160M- and a Mamba-130M-shaped model (random weights) on the CPU "
                + "backend, against PyTorch (Debian's python3-torch, scripts/bench_decode.py) on the same cores with the same "
                + "weights; and the loader's peak resident memory (a fresh JVM) against the weights' size."})
final class DecodeBenchCommand implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--shape", split = ",", defaultValue = "pythia-160m,mamba-130m")
    List<String> shapes;

    @Option(names = "--layers", defaultValue = "0", description = "layers (0 = the real depth; fewer for a quick run)")
    int layers;

    @Option(names = "--batch", defaultValue = "1")
    int batch;

    @Option(names = "--prompt", defaultValue = "64", description = "prompt tokens")
    int prompt;

    @Option(names = "--tokens", defaultValue = "32", description = "generated tokens")
    int tokens;

    @Option(names = "--stepwise", description = "run the prompt one position at a time with the LM head at every "
            + "position, in parrot and in the PyTorch baseline (decoding before batched prefill and head skipping; for "
            + "before/after comparisons). Default: the prompt in one forward in both")
    boolean stepwise;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "python with torch; 'none' skips the baseline")
    String python;

    @Option(names = "--work", description = "folder for the model folders (default: a temporary one, removed after)")
    Path work;

    @Option(names = "--json", description = "write the numbers here")
    Path json;

    @Override
    public Integer call() throws Exception {
        for (String s : shapes) DecodeBench.shape(s, layers);
        if (batch < 1 || prompt < 1 || tokens < 1) throw new IllegalArgumentException("--batch, --prompt, --tokens: must be >= 1");
        Path dir = work != null ? work : Files.createTempDirectory("parrot-bench-decode");
        List<Object> rows = new ArrayList<>();
        try {
            for (String s : shapes) {
                Path f = dir.resolve(s);
                Map<String, Object> row = new LinkedHashMap<>();
                try (Backend be = new CpuBackend()) {
                    DecodeBench.writeFolder(s, layers, be, f);
                    DecodeBench.Result r = DecodeBench.run(f, be, batch, prompt, tokens, stepwise);
                    System.out.printf(Locale.ROOT, "%s (%,d parameters, %s): %,.1f tokens/s decoding (batch %d, prompt %d, %d new)%n",
                            s, r.parameters(), r.backend(), r.tokensPerSecond(), batch, prompt, tokens);
                    System.out.printf(Locale.ROOT, "  prompt (%s): %.3f s, %,.1f prompt tokens/s%n", r.prompting(),
                            r.prefillSeconds(), r.prefillTokensPerSecond());
                    row.put("parrot", r);
                }
                List<String> script = new ArrayList<>(List.of(python, "scripts/bench_decode.py", f.toString(), "--batch", "" + batch,
                        "--prompt", "" + prompt, "--tokens", "" + tokens, "--threads", "" + Parallel.threads()));
                if (!stepwise) script.add("--prefill");           // like for like: PyTorch prompts the same way
                JsonNode torch = python.equals("none") ? null : child(script);
                if (torch != null) {
                    double ratio = ((DecodeBench.Result) row.get("parrot")).tokensPerSecond() / torch.get("tokens_per_second").asDouble();
                    System.out.printf(Locale.ROOT, "  pytorch %s: %,.1f tokens/s; ratio parrot/pytorch %.2fx%n",
                            torch.get("torch").asText(), torch.get("tokens_per_second").asDouble(), ratio);
                    double pre = torch.get("prefill_seconds").asDouble();
                    System.out.printf(Locale.ROOT, "  pytorch prompt (%s): %.3f s; ratio of prompt times pytorch/parrot %.2fx%n",
                            torch.path("prompting").asText("stepwise"), pre,
                            pre / ((DecodeBench.Result) row.get("parrot")).prefillSeconds());
                    row.put("pytorch", torch);
                    row.put("ratio", ratio);
                }
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                JsonNode load = child(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp",
                        System.getProperty("java.class.path"), LoadProbe.class.getName(), f.toString()));
                if (load != null) {
                    double peak = load.get("peak_rss_after").asDouble(), w = load.get("float32_bytes").asDouble();
                    System.out.printf(Locale.ROOT, "  loader: peak RSS %.0f MB (JVM before loading %.0f MB, parameters allocated %.0f MB) "
                                    + "for %.0f MB of float32 weights: %.2fx%n", peak / 1e6, load.get("peak_rss_before").asDouble() / 1e6,
                            load.get("peak_rss_allocated").asDouble() / 1e6, w / 1e6, peak / w);
                    row.put("loader", load);
                }
                rows.add(row);
            }
        } finally {
            if (work == null) try (var w = Files.walk(dir)) {
                for (Path x : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
            }
        }
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("schema", "parrot.bench.decode/1");
            doc.put("git_commit", BuildInfo.gitCommit());
            doc.put("threads", Parallel.threads());
            doc.put("results", rows);
            ResultsIO.write(json, doc);
        }
        return 0;
    }

    /** Runs a command and reads its last stdout line as JSON; null (with the reason) when it fails. */
    private static JsonNode child(List<String> cmd) throws Exception {
        if (!new File(cmd.get(0)).canExecute() || (cmd.size() > 1 && cmd.get(1).endsWith(".py") && !Files.isRegularFile(Path.of(cmd.get(1))))) {
            System.out.println("  skipped " + String.join(" ", cmd.subList(0, 2)) + " (not found)");
            return null;
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (!p.waitFor(60, TimeUnit.MINUTES) || p.exitValue() != 0 || out.isEmpty()) {
            System.out.println("  " + cmd.get(0) + ": failed (exit " + p.exitValue() + ")");
            return null;
        }
        return ResultsIO.JSON.readTree(out.substring(out.lastIndexOf('\n') + 1));
    }
}
