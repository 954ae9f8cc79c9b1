package parrot.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * docker/slurm/parrot-sweep.sbatch: the #SBATCH header, the shard passed to `parrot sweep`, and its SIGTERM
 * handling, run here with bash against stand-ins for srun, apptainer, scancel, squeue, scontrol and parrot.
 */
class SlurmSweepScriptTest {
    static final String SCRIPT = "docker/slurm/parrot-sweep.sbatch";

    /** #SBATCH options; sbatch reads them only before the first command, so only the header counts. */
    static Map<String, String> sbatch() {
        Map<String, String> opts = new LinkedHashMap<>();
        for (String line : DeployFiles.read(SCRIPT).split("\n")) {
            String t = line.strip();
            if (t.isEmpty()) continue;
            if (!t.startsWith("#")) break;
            Matcher m = Pattern.compile("^#SBATCH\\s+(--[\\w-]+)(?:[=\\s]+(\\S+))?").matcher(t);
            if (m.find()) opts.put(m.group(1), m.group(2) == null ? "" : m.group(2));
        }
        return opts;
    }

    static int arrayTasks() {
        String array = sbatch().get("--array");
        assertTrue(array != null, "#SBATCH --array missing: " + sbatch());
        Matcher m = Pattern.compile("0-(\\d+)(%\\d+)?").matcher(array);
        assertTrue(m.matches(), "--array=0-(N-1) so that the task ids are the shards 0..N-1: " + array);
        return Integer.parseInt(m.group(1)) + 1;
    }

    @Test
    void headerAsksForAnArrayOneGpuAWarningSignalAndRequeue() {
        Map<String, String> o = sbatch();
        assertTrue(arrayTasks() >= 1);
        assertTrue(o.getOrDefault("--gres", "").matches("gpu(:[\\w.-]+)?:1"), "--gres=gpu:1: " + o);
        Matcher sig = Pattern.compile("B:TERM@(\\d+)").matcher(o.getOrDefault("--signal", ""));
        assertTrue(sig.matches(), "--signal=B:TERM@<seconds>: " + o);
        assertTrue(Integer.parseInt(sig.group(1)) >= 60, "at least a minute to checkpoint: " + o.get("--signal"));
        assertTrue(o.containsKey("--requeue"), "--requeue: " + o);
        assertFalse(o.containsKey("--no-requeue"));
    }

    @Test
    void theArrayIndexIsTheShard() {
        Matcher m = Pattern.compile("--shard\\s+\"?\\$\\{?SLURM_ARRAY_TASK_ID}?/(\\$\\{?SLURM_ARRAY_TASK_COUNT}?|\\d+)\"?")
                .matcher(DeployFiles.read(SCRIPT));
        assertTrue(m.find(), "parrot sweep ... --shard ${SLURM_ARRAY_TASK_ID}/N");
        if (m.group(1).matches("\\d+")) assertEquals(arrayTasks(), Integer.parseInt(m.group(1)));
        assertTrue(DeployFiles.read(SCRIPT).contains("parrot sweep"), "runs `parrot sweep`");
        assertTrue(DeployFiles.read(SCRIPT).contains("apptainer exec --nv"), "the container through Apptainer with the GPU");
    }

    @Test
    void bashAcceptsTheScript() throws Exception {
        Proc p = bash(Map.of(), List.of("-n", DeployFiles.root().resolve(SCRIPT).toString()), null);
        assertEquals(0, p.code(), p.out());
    }

    // --- the script run with stand-ins ---

    record Proc(int code, String out) {
    }

    static Path stubs(Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        stub(bin, "srun", "echo \"srun $*\" >> \"$LOG\"; while [ \"${1#--}\" != \"$1\" ]; do shift; done; exec \"$@\"");
        stub(bin, "apptainer", "echo \"apptainer $*\" >> \"$LOG\"; while [ \"$1\" != parrot ]; do shift; done; exec \"$@\"");
        stub(bin, "parrot", """
                echo "parrot $*" >> "$LOG"
                trap 'echo checkpoint >> "$LOG"; exit 143' TERM
                echo $$ > "$STATE/parrot.pid"
                [ -n "${PARROT_STUB_EXIT:-}" ] && exit "$PARROT_STUB_EXIT"
                sleep 30 & wait $!
                echo "parrot: not signalled" >> "$LOG"; exit 99""");
        stub(bin, "scancel", "echo \"scancel $*\" >> \"$LOG\"; kill -TERM \"$(cat \"$STATE/parrot.pid\")\"");
        stub(bin, "squeue", "echo \"$TIME_LEFT\"");
        stub(bin, "scontrol", "echo \"scontrol $*\" >> \"$LOG\"");
        return bin;
    }

    static void stub(Path bin, String name, String body) throws IOException {
        Path f = bin.resolve(name);
        Files.writeString(f, "#!/bin/bash\n" + body + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static Map<String, String> arrayEnv(Path dir, String timeLeft) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", stubs(dir) + ":" + System.getenv("PATH"));
        env.put("LOG", dir.resolve("log").toString());
        env.put("STATE", dir.toString());
        env.put("TIME_LEFT", timeLeft);
        env.put("SLURM_JOB_ID", "1042");
        env.put("SLURM_ARRAY_JOB_ID", "1039");
        env.put("SLURM_ARRAY_TASK_ID", "3");
        env.put("SLURM_ARRAY_TASK_COUNT", "8");
        env.put("SLURM_ARRAY_TASK_MIN", "0");
        env.put("SLURM_ARRAY_TASK_MAX", "7");
        env.put("SLURM_SUBMIT_DIR", dir.toString());
        env.put("PARROT_IMAGE", dir.resolve("parrot.sif").toString());
        Files.createDirectories(dir.resolve("sweeps"));
        Files.writeString(dir.resolve("sweeps/grid.json"), "{}");
        return env;
    }

    /** Runs bash with args (in $STATE); with signalWhenStarted, sends SIGTERM to bash once that file exists. */
    static Proc bash(Map<String, String> env, List<String> args, Path signalWhenStarted) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash"));
        cmd.addAll(args);
        // Output to a file: Process.destroy() (the SIGTERM below) closes the pipes.
        Path out = Files.createTempFile("parrot-sbatch", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
        if (env.containsKey("STATE")) pb.directory(Path.of(env.get("STATE")).toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            assumeTrue(false, "bash is not installed");
            throw e;
        }
        if (signalWhenStarted != null) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(signalWhenStarted) && System.nanoTime() < end && p.isAlive()) Thread.sleep(20);
            assertTrue(Files.exists(signalWhenStarted), "parrot never started");
            Thread.sleep(200);   // let bash reach `wait`
            p.destroy();         // SIGTERM, as --signal=B:TERM@120 sends it to the batch shell
        }
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        if (!done) p.destroyForcibly();
        assertTrue(done, "the script did not stop: " + text);
        return new Proc(p.exitValue(), text);
    }

    static String log(Path dir) throws IOException {
        return Files.exists(dir.resolve("log")) ? Files.readString(dir.resolve("log")) : "";
    }

    static List<String> script(String sweep) {
        return List.of(DeployFiles.root().resolve(SCRIPT).toString(), sweep);
    }

    @Test
    void runsShardTaskIdOfTaskCountInTheContainerWithRunsBound(@TempDir Path dir) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(arrayEnv(dir, "3:00:00"));
        env.put("PARROT_STUB_EXIT", "0");
        Proc p = bash(env, script("sweeps/grid.json"), null);
        String log = log(dir);
        assertEquals(0, p.code(), p.out() + log);
        // sweeps/grid.json names its experiments as ../X.json: the folder above sweeps/ is what the image needs.
        assertTrue(log.contains("parrot sweep /work/experiments/sweeps/grid.json --shard 3/8"), log);
        assertTrue(log.contains("apptainer exec --nv --pwd /work --bind " + dir.resolve("runs") + ":/work/runs --bind "
                + dir + ":/work/experiments:ro " + dir.resolve("parrot.sif") + " parrot sweep"), log);
        assertTrue(Files.isDirectory(dir.resolve("runs")));
        assertFalse(log.contains("scontrol"), log);
    }

    @Test
    void theImageGetsTheFolderTheSweepNamesItsConfigsFrom(@TempDir Path dir) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(arrayEnv(dir, "3:00:00"));
        env.put("PARROT_STUB_EXIT", "0");
        Files.createDirectories(dir.resolve("mine"));
        Files.writeString(dir.resolve("mine/flat.json"), "{}");
        Proc p = bash(env, script("mine/flat.json"), null);
        assertEquals(0, p.code(), p.out() + log(dir));
        assertTrue(log(dir).contains("--bind " + dir.resolve("mine") + ":/work/experiments:ro " + dir.resolve("parrot.sif")
                + " parrot sweep /work/experiments/flat.json --shard 3/8"), log(dir));

        env.put("PARROT_EXPERIMENTS", dir.toString());
        Files.delete(dir.resolve("log"));
        p = bash(env, script("mine/flat.json"), null);
        assertEquals(0, p.code(), p.out() + log(dir));
        assertTrue(log(dir).contains("--bind " + dir + ":/work/experiments:ro " + dir.resolve("parrot.sif")
                + " parrot sweep /work/experiments/mine/flat.json --shard 3/8"), log(dir));

        env.put("PARROT_EXPERIMENTS", dir.resolve("sweeps").toString());
        Files.delete(dir.resolve("log"));
        p = bash(env, script("mine/flat.json"), null);
        assertEquals(64, p.code(), p.out());
        assertTrue(p.out().contains("does not hold"), p.out());
    }

    @Test
    void termNearTheTimeLimitCheckpointsThenRequeuesTheTask(@TempDir Path dir) throws Exception {
        Proc p = bash(arrayEnv(dir, "1:50"), script("sweeps/grid.json"), dir.resolve("parrot.pid"));
        String log = log(dir);
        assertTrue(log.contains("scancel --signal=TERM 1039_3"), "SIGTERM goes to the job step: " + log);
        assertTrue(log.contains("checkpoint"), "parrot got SIGTERM: " + log);
        assertFalse(log.contains("not signalled"), log);
        assertTrue(log.contains("scontrol requeue 1039_3"), "requeued at the time limit: " + log + p.out());
        assertEquals(143, p.code(), "parrot's exit code: " + p.out());
    }

    @Test
    void termFarFromTheTimeLimitCheckpointsWithoutRequeue(@TempDir Path dir) throws Exception {
        Proc p = bash(arrayEnv(dir, "1-02:00:00"), script("sweeps/grid.json"), dir.resolve("parrot.pid"));
        String log = log(dir);
        assertTrue(log.contains("checkpoint"), log);
        assertFalse(log.contains("scontrol"), "scancel or preemption: Slurm decides, no self-requeue: " + log + p.out());
    }

    @Test
    void refusesAnArrayThatLeavesShardsOut(@TempDir Path dir) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(arrayEnv(dir, "3:00:00"));
        env.put("SLURM_ARRAY_TASK_MIN", "1");
        env.put("SLURM_ARRAY_TASK_MAX", "8");
        Proc p = bash(env, script("sweeps/grid.json"), null);
        assertEquals(64, p.code(), p.out());
        assertTrue(p.out().contains("0-(N-1)"), p.out());
        assertFalse(log(dir).contains("parrot sweep"));
    }
}
