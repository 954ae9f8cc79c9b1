package parrot.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * scripts/gpu-check.sh, the prepared device check, run here with bash in a scratch copy of the repository: it
 * fails fast without a GPU, names a missing bundle, and with a stand-in nvidia-smi and a stand-in bundle runs its
 * steps in order, collects the quickstart results, records every exit code in env.json, and skips what its time
 * budget no longer allows.
 */
class GpuCheckScriptTest {
    /** exit code and output of the script run in {@code root} with {@code bin} first on PATH. */
    private record Run(int exit, String output) {
    }

    private static void executable(Path f, String text) throws IOException {
        Files.createDirectories(f.getParent());
        Files.writeString(f, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static Path scratchRepo(Path tmp) throws IOException {
        Path root = tmp.resolve("repo");
        Files.createDirectories(root.resolve("scripts"));
        Files.copy(Path.of("scripts/gpu-check.sh"), root.resolve("scripts/gpu-check.sh"));
        return root;
    }

    private static Run run(Path root, Path bin, Path out, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("scripts/gpu-check.sh").toString(), out.toString())
                .redirectErrorStream(true);
        // no nvidia-smi, python3 or compute-sanitizer from this machine: only the stand-ins and the basics
        pb.environment().put("PATH", bin + ":/usr/bin:/bin");
        pb.environment().put("TMPDIR", root.getParent().toString());
        // nor the emulated CUDA device that make test puts on the library path (the script rightly refuses it)
        pb.environment().remove("LD_LIBRARY_PATH");
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), output);
        return new Run(p.exitValue(), output);
    }

    private static Path fakeNvidiaSmi(Path tmp) throws IOException {
        Path bin = tmp.resolve("bin");
        executable(bin.resolve("nvidia-smi"), """
                #!/bin/sh
                case "$*" in *query-gpu*) echo "0, Stand-in H100, 580.00, 81559 MiB, 9.0";;
                *) echo "| NVIDIA-SMI 580.00   Driver Version: 580.00   CUDA Version: 13.0 |";; esac
                """);
        return bin;
    }

    /** A bundle whose bin/parrot logs its arguments, writes what the real one would, and exits 0. */
    private static void fakeBundle(Path root, Path tmp) throws Exception {
        Path home = tmp.resolve("stage/parrot-9.9.9");
        executable(home.resolve("runtime/bin/java"), "#!/bin/sh\necho 'openjdk version \"17\"' >&2\n");
        executable(home.resolve("bin/parrot"), """
                #!/bin/bash
                echo "parrot $*" >> "$PARROT_CALLS"
                json=""; outdir=""
                while [ $# -gt 0 ]; do
                    case "$1" in --json) json=$2; shift;; --out) outdir=$2; shift;; esac; shift
                done
                if [ -n "$json" ] && [ -n "${STAND_IN_EMULATED:-}" ]; then echo '{"emulated" : true}' > "$json"
                elif [ -n "$json" ]; then echo '{"stand_in": true}' > "$json"; fi
                if [ -n "$outdir" ]; then
                    for m in hard-alibi mamba; do mkdir -p "$outdir/$m" && echo '{"model": "'$m'"}' > "$outdir/$m/result.json"; done
                fi
                exit 0
                """);
        Files.createDirectories(root.resolve("dist"));
        Process p = new ProcessBuilder("tar", "-C", tmp.resolve("stage").toString(), "-cJf",
                root.resolve("dist/parrot-9.9.9-linux-x86_64.tar.xz").toString(), "parrot-9.9.9").inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    /** The script run with a stand-in GPU and bundle; calls lists bin/parrot's invocations. */
    private record Checked(Path root, Path out, Path calls, Run run) {
    }

    private static Checked withStandIns(Path tmp, String budget) throws Exception {
        Path root = scratchRepo(tmp);
        fakeBundle(root, tmp);
        Path calls = tmp.resolve("calls.txt"), out = tmp.resolve("out");
        Run r = run(root, fakeNvidiaSmi(tmp), out, Map.of("PARROT_CALLS", calls.toString(), "GPU_CHECK_BUDGET", budget));
        return new Checked(root, out, calls, r);
    }

    @Test
    void withoutAGpuItFailsFastWithOneLine(@TempDir Path tmp) throws Exception {
        Path root = scratchRepo(tmp);
        Files.createDirectories(tmp.resolve("empty-bin"));
        Run r = run(root, tmp.resolve("empty-bin"), tmp.resolve("out"), Map.of());
        assertEquals(2, r.exit(), r.output());
        assertEquals("gpu-check: no GPU here: nvidia-smi not found", r.output().strip());
    }

    @Test
    void withoutTheBundleItSaysWhatToRun(@TempDir Path tmp) throws Exception {
        Path root = scratchRepo(tmp);
        Run r = run(root, fakeNvidiaSmi(tmp), tmp.resolve("out"), Map.of());
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("run: make bundle"), r.output());
    }

    @Test
    void runsParityTrainingAndBenchInOrderAndRecordsThem(@TempDir Path tmp) throws Exception {
        Checked c = withStandIns(tmp, "540");
        Path root = c.root(), out = c.out(), calls = c.calls();
        Run r = c.run();
        assertEquals(0, r.exit(), r.output());
        List<String> lines = Files.readAllLines(calls);
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("parrot selftest --device cuda --json " + out), lines.get(0));
        assertTrue(lines.get(1).startsWith("parrot train --config " + root.resolve("experiments/quickstart.json")
                + " --device cuda"), lines.get(1));
        assertTrue(lines.get(2).startsWith("parrot bench gpu --json " + out), lines.get(2));
        assertTrue(Files.exists(out.resolve("parity.json")) && Files.exists(out.resolve("bench.json")));
        assertTrue(Files.exists(out.resolve("quickstart/hard-alibi/result.json")));
        assertTrue(Files.exists(out.resolve("quickstart/mamba/result.json")));
        JsonNode env = new ObjectMapper().readTree(out.resolve("env.json").toFile());
        assertEquals(0, env.get("selftest_exit").asInt());
        assertEquals(0, env.get("train_quickstart_exit").asInt());
        assertEquals(0, env.get("bench_exit").asInt());
        assertTrue(env.get("bench_attention_exit").isNull(), "no PyTorch here: the attention bench is skipped");
        assertEquals("13.0", env.get("cuda_driver_version").asText());
        assertTrue(env.get("gpus_csv").get(0).asText().contains("Stand-in H100"));
        assertTrue(r.output().contains("attention bench: skipped"), r.output());
    }

    @Test
    void theEmulatedCudaDeviceIsNotTakenForAGpu(@TempDir Path tmp) throws Exception {
        Path root = scratchRepo(tmp);
        fakeBundle(root, tmp);
        Path lib = tmp.resolve("emu-device"), calls = tmp.resolve("calls.txt");
        Files.createDirectories(lib);
        // what build/emu-device/libcuda.so.1 carries: the device name it reports
        Files.write(lib.resolve("libcuda.so.1"), "\0ELF...\0emulated CUDA device (CPU)\0...".getBytes(StandardCharsets.US_ASCII));
        Run r = run(root, fakeNvidiaSmi(tmp), tmp.resolve("out"), Map.of("PARROT_CALLS", calls.toString(),
                "LD_LIBRARY_PATH", "/nonexistent:" + lib));
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().strip().startsWith("gpu-check: no GPU here: " + lib.resolve("libcuda.so.1")
                + " is the emulated CUDA device (CPU), not a GPU"), r.output());
        assertTrue(Files.notExists(calls), "nothing ran");
    }

    @Test
    void aSelftestThatRanOnTheEmulatedDeviceStopsTheCheck(@TempDir Path tmp) throws Exception {
        Path root = scratchRepo(tmp);
        fakeBundle(root, tmp);
        Path calls = tmp.resolve("calls.txt"), out = tmp.resolve("out");
        Run r = run(root, fakeNvidiaSmi(tmp), out, Map.of("PARROT_CALLS", calls.toString(), "STAND_IN_EMULATED", "1"));
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("the selftest ran on the emulated CUDA device (CPU), not a GPU"), r.output());
        assertEquals(1, Files.readAllLines(calls).size(), "only the selftest ran");
        assertTrue(Files.notExists(out.resolve("parity.json")) && Files.exists(out.resolve("parity-emulated-not-a-gpu.json")));
    }

    @Test
    void stepsPastTheTimeBudgetAreSkippedAndSaySo(@TempDir Path tmp) throws Exception {
        Checked c = withStandIns(tmp, "10");
        Path out = c.out(), calls = c.calls();
        Run r = c.run();
        assertEquals(124, r.exit(), r.output());
        assertTrue(Files.notExists(calls), "nothing ran");
        assertTrue(r.output().contains("out of time budget (GPU_CHECK_BUDGET), skipped"), r.output());
        JsonNode env = new ObjectMapper().readTree(out.resolve("env.json").toFile());
        assertEquals(124, env.get("selftest_exit").asInt());
        assertEquals(124, env.get("bench_exit").asInt());
    }
}
