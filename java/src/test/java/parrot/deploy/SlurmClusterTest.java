package parrot.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import parrot.results.ResultsIO;
import parrot.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * docker/slurm/parrot-sweep.sbatch under a real Slurm: scripts/slurm-local.sh starts munged, slurmctld and slurmd
 * on localhost (one node, 2 CPUs, no GPU), and the unchanged script runs a 6-cell sweep as a 3-task job array
 * with the built jar (target/parrot.jar in a bundle-shaped folder: bin/parrot is the bundle's launcher, runtime/
 * this JVM). While it runs, task 0 gets the SIGTERM a time-limit warning sends (scancel --signal=TERM --batch, the
 * delivery of --signal=B:TERM@...) and requeues itself; task 1's JVM is killed with SIGKILL and the task requeued
 * with scontrol. Both must resume from their checkpoints, every cell must finish exactly once, Slurm's job
 * completion records must show every array task COMPLETED, and `parrot merge` of the array's output must equal
 * that of one `parrot sweep` process bitwise (timings aside). SKIPPED where Slurm or munge is missing or cannot
 * start (not root, no slurm-wlm); .ci/run installs them.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class SlurmClusterTest {
    static final String SWEEP = "slurm-tiny";
    /** 400 steps of a 4k-parameter transformer: a few seconds a cell, long enough to be signalled mid-training. */
    static final String EXPERIMENT = """
            {"name": "tiny", "seed": 1,
             "task": {"type": "copy", "lengths": "1..4"},
             "train": {"steps": 400, "batch_size": 4, "context": 16, "lr": 3e-3, "warmup_steps": 1, "log_every": 20,
                       "checkpoint_every": 20, "device": "cpu"},
             "eval": {"lengths": "2..4:2", "samples": 3},
             "models": [{"name": "a", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "hard-alibi"},
                        {"name": "b", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "nope"}]}
            """;
    static final int TASKS = 3, CHECKPOINT_EVERY = 20;
    /** Cells in the sweep's order (experiment × model × seed); array task i runs cells c with c mod 3 = i. */
    static final List<String> CELLS = List.of("tiny/a/seed-1", "tiny/a/seed-2", "tiny/a/seed-3",
            "tiny/b/seed-1", "tiny/b/seed-2", "tiny/b/seed-3");
    /** What differs between two runs of the same cell: clocks, and where the file was read from. */
    static final List<String> TIMING = List.of("started_at", "wall_seconds", "train_seconds", "tokens_per_second", "source");

    static Path cluster;
    static Map<String, String> env;
    static String version;

    /** Starts the cluster; an assumption (SKIPPED with the reason) where it cannot start here. */
    static void start() throws Exception {
        Path script = DeployFiles.root().resolve("scripts/slurm-local.sh");
        assertTrue(Files.isRegularFile(script), "scripts/slurm-local.sh is missing");
        cluster = Files.createTempDirectory("parrot-slurm-");
        Runtime.getRuntime().addShutdownHook(new Thread(SlurmClusterTest::stopQuietly));   // a killed test run too
        Proc p = run(Map.of(), DeployFiles.root(), 120, "bash", script.toString(), "start", cluster.toString());
        if (p.code() == 77) {
            stopQuietly();
            assumeTrue(false, p.out().strip());
        }
        assertEquals(0, p.code(), "slurm-local.sh start:\n" + p.out());
        env = new LinkedHashMap<>();
        for (String line : p.out().split("\n")) {
            Matcher m = Pattern.compile("^(SLURM_\\w+)=(.*)$").matcher(line.strip());
            if (m.matches()) env.put(m.group(1), m.group(2));
        }
        assertTrue(env.containsKey("SLURM_CONF"), p.out());
        version = env.remove("SLURM_VERSION");
        env.remove("SLURM_NODE");
        System.out.println("SlurmClusterTest: Slurm " + version + " on localhost, " + env.get("SLURM_CONF"));
    }

    /** Stops everything the cluster started, by pid, and removes its folder. */
    @AfterAll
    static void stop() throws Exception {
        if (cluster == null || !Files.exists(cluster)) return;
        Proc p = run(Map.of(), DeployFiles.root(), 60, "bash", DeployFiles.root().resolve("scripts/slurm-local.sh").toString(),
                "stop", cluster.toString());
        assertEquals(0, p.code(), "slurm-local.sh stop:\n" + p.out());
        assertFalse(Files.exists(cluster), cluster + " left behind");
    }

    static void stopQuietly() {
        boolean interrupted = Thread.interrupted();   // a timed-out test: stop the cluster all the same
        try {
            if (cluster != null && Files.exists(cluster))
                run(Map.of(), DeployFiles.root(), 60, "bash", DeployFiles.root().resolve("scripts/slurm-local.sh").toString(),
                        "stop", cluster.toString());
        } catch (Exception ignored) {
            // best effort: the JVM is going away, or the test has failed already
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    @Test
    void theSweepArrayRunsPreemptedAndKilledTasksResumeAndTheMergeEqualsOneProcess(@TempDir Path tmp) throws Exception {
        Path jar = DeployFiles.root().resolve("target/parrot.jar");
        assumeTrue(Files.isRegularFile(jar), "target/parrot.jar is missing (make build; make test builds it first)");
        // Started here, not in @BeforeAll: surefire shows an assumption there as no test at all, not as SKIPPED.
        start();
        try {
            sweepArray(tmp, jar);
        } catch (Throwable t) {
            stopQuietly();   // keep the test's own failure
            throw t;
        }
        stop();
    }

    void sweepArray(Path tmp, Path jar) throws Exception {
        Path bundle = bundle(tmp.resolve("bundle"), jar);
        Path work = Files.createDirectories(tmp.resolve("work"));
        Files.writeString(work.resolve("tiny.json"), EXPERIMENT);
        Path sweep = work.resolve("sweep.json");
        Files.writeString(sweep, "{\"name\": \"" + SWEEP + "\", \"experiments\": [\"tiny.json\"], \"seeds\": [1, 2, 3]}\n");
        Map<String, String> jobEnv = new LinkedHashMap<>(env);
        jobEnv.put("PARROT_BUNDLE", bundle.toString());
        jobEnv.put("PARROT_JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC");

        // The single-process reference, alongside the array (the same bits whatever else runs).
        Path refOut = tmp.resolve("reference");
        Process reference = new ProcessBuilder(bundle.resolve("bin/parrot").toString(), "sweep", sweep.toString(),
                "--out", refOut.toString(), "--no-progress")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("reference.log").toFile()).directory(work.toFile()).start();
        reference.getOutputStream().close();
        try {
            // --time=5: the script's SIGTERM trap requeues when at most 300 s are left, as after --signal=B:TERM@120.
            // --gres/--cpus-per-task/--mem: this node has no GPU, 2 CPUs, and runs two tasks at a time.
            Proc sub = run(jobEnv, work, 60, "sbatch", "--parsable", "--array=0-" + (TASKS - 1), "--gres=none",
                    "--cpus-per-task=1", "--mem=1G", "--time=5",
                    DeployFiles.root().resolve(SlurmSweepScriptTest.SCRIPT).toString(), sweep.toString());
            assertEquals(0, sub.code(), "sbatch: " + sub.out());
            String job = sub.out().strip().split(";")[0];
            assertTrue(job.matches("\\d+"), "sbatch --parsable printed " + sub.out());
            Path runs = work.resolve("runs/sweeps/" + SWEEP);

            // Task 0: SIGTERM to the batch shell while its first cell trains; it checkpoints and requeues itself.
            Path cell0 = runs.resolve(CELLS.get(0));
            await(90, "task 0 training " + CELLS.get(0) + " past a checkpoint", job,
                    () -> Files.isDirectory(cell0.resolve("checkpoint")) && !Files.exists(cell0.resolve("result.json")));
            Proc term = run(jobEnv, work, 30, "scancel", "--signal=TERM", "--batch", job + "_0");
            assertEquals(0, term.code(), "scancel --signal=TERM --batch: " + term.out());

            // Task 1: SIGKILL to its JVM (found by Slurm's own pid list) after a periodic checkpoint; then requeued.
            Path cell1 = runs.resolve(CELLS.get(1));
            await(90, "task 1 training " + CELLS.get(1) + " past a checkpoint", job,
                    () -> Files.isDirectory(cell1.resolve("checkpoint")) && !Files.exists(cell1.resolve("result.json")));
            long pid = stepPid(jobEnv, work, job + "_1");
            assertEquals(0, run(Map.of(), work, 10, "kill", "-KILL", Long.toString(pid)).code());
            await(60, "task 1 to fail after the SIGKILL", job, () -> jobState(jobEnv, work, job + "_1").equals("FAILED"));
            int killedAt = Checkpoint.loadForResume(cell1).state().step();
            Proc requeue = run(jobEnv, work, 30, "scontrol", "requeue", job + "_1");
            assertEquals(0, requeue.code(), "scontrol requeue: " + requeue.out());

            await(240, "every array task COMPLETED", job, () -> {
                for (int i = 0; i < TASKS; i++) if (!jobState(jobEnv, work, job + "_" + i).equals("COMPLETED")) return false;
                return true;
            });
            assertTrue(reference.waitFor(120, TimeUnit.SECONDS), "the reference sweep did not finish");
            assertEquals(0, reference.exitValue(), "reference sweep:\n" + Files.readString(tmp.resolve("reference.log")));

            List<String> logs = new ArrayList<>();
            for (int i = 0; i < TASKS; i++) logs.add(Files.readString(work.resolve("parrot-sweep-" + job + "_" + i + ".out")));
            String all = String.join("\n", logs);

            // Task 0: stopped by the SIGTERM with a checkpoint, requeued by the script, resumed at that step.
            Matcher stopped = Pattern.compile("a: stopped at step (\\d+)/400").matcher(logs.get(0));
            assertTrue(logs.get(0).contains("stopped by SIGTERM in " + CELLS.get(0) + "; its checkpoint is saved")
                    && stopped.find(), "task 0 did not checkpoint on SIGTERM:\n" + logs.get(0));
            assertTrue(logs.get(0).matches("(?s).*parrot-sweep: \\d+s left: requeueing " + job + "_0 \\(restart 1 .*"),
                    "task 0 did not requeue itself:\n" + logs.get(0));
            assertTrue(logs.get(0).contains("restart 1"), logs.get(0));
            assertTrue(logs.get(0).contains(CELLS.get(0) + ": resuming at step " + stopped.group(1)),
                    "task 0 did not resume at step " + stopped.group(1) + ":\n" + logs.get(0));
            // Task 1: no SIGTERM checkpoint, so it resumes at the last periodic one it had reached.
            assertFalse(logs.get(1).contains("stopped by SIG"), logs.get(1));
            assertTrue(killedAt > 0 && killedAt % CHECKPOINT_EVERY == 0, "killed at checkpoint step " + killedAt);
            assertTrue(logs.get(1).contains("restart 1") && logs.get(1).contains(CELLS.get(1) + ": resuming at step " + killedAt),
                    "task 1 did not resume at step " + killedAt + ":\n" + logs.get(1));

            // Every cell started once, in its own shard's task only; only the interrupted two resumed; none failed.
            for (int c = 0; c < CELLS.size(); c++) {
                String id = CELLS.get(c);
                for (int i = 0; i < TASKS; i++) {
                    int expected = i == c % TASKS ? 1 : 0;
                    assertEquals(expected, count(logs.get(i), id + ": training"), id + " started in task " + i + ":\n" + logs.get(i));
                    assertEquals(i == c % TASKS && c < 2 ? 1 : 0, count(logs.get(i), id + ": resuming"), id + " resumed in task " + i);
                }
                assertTrue(Files.isRegularFile(runs.resolve(id).resolve("result.json")), id + " has no result.json");
            }
            int trained = 0;
            Matcher summary = Pattern.compile("sweep " + SWEEP + " shard \\d+/3: (\\d+) trained, \\d+ already done, (\\d+) failed").matcher(all);
            while (summary.find()) {
                trained += Integer.parseInt(summary.group(1));
                assertEquals("0", summary.group(2), summary.group());
            }
            assertEquals(CELLS.size(), trained, "cells trained to the end, over all runs of all tasks:\n" + all);

            // Slurm's job completion records (jobcomp/filetxt): the requeued run of task 0 (PENDING, written by the
            // requeue), task 1's killed run (FAILED) and its requeue (PENDING), and then COMPLETED for every task.
            Map<Integer, List<String>> records = jobcomp(job);
            assertEquals(List.of("PENDING", "COMPLETED"), records.get(0), "task 0's records: " + records);
            assertEquals(List.of("FAILED", "PENDING", "COMPLETED"), records.get(1), "task 1's records: " + records);
            assertEquals(List.of("COMPLETED"), records.get(2), "task 2's records: " + records);
            assertEquals(TASKS, records.size(), "records: " + records);
            assertEquals(1, restarts(jobEnv, work, job + "_0"));
            assertEquals(1, restarts(jobEnv, work, job + "_1"));
            assertEquals(0, restarts(jobEnv, work, job + "_2"));

            // parrot merge of the array's folder = of the single process's, bit for bit.
            JsonNode slurm = merge(bundle, work, runs, tmp.resolve("slurm-table.json"));
            JsonNode ref = merge(bundle, work, refOut, tmp.resolve("reference-table.json"));
            assertEquals(CELLS.size(), slurm.get("runs").size());
            assertTrue(slurm.get("rows").size() > 0, "no rows: " + slurm);
            // The whole table (rows, seed aggregates, runs), less when and from which folders it was made.
            for (JsonNode t : List.of(slurm, ref)) ((ObjectNode) t).remove(List.of("created_at", "sources"));
            assertEquals(null, firstDifference(withoutTiming(ref), withoutTiming(slurm), "table"), "merged tables: reference vs Slurm");
        } finally {
            reference.destroyForcibly();
        }
    }

    // --- helpers ---

    record Proc(int code, String out) {
    }

    static Proc run(Map<String, String> env, Path dir, int timeoutS, String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("parrot-slurm", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().putAll(env);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                return new Proc(127, cmd[0] + ": " + e.getMessage());
            }
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Proc(124, String.join(" ", cmd) + ": no answer in " + timeoutS + " s\n" + Files.readString(out));
            }
            return new Proc(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** A folder shaped like `make bundle`'s: bin/parrot the bundle's launcher, lib/parrot.jar, runtime/ this JVM. */
    static Path bundle(Path dir, Path jar) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        Files.createDirectories(dir.resolve("lib"));
        Path launcher = dir.resolve("bin/parrot");
        Files.copy(DeployFiles.root().resolve("scripts/parrot-launcher.sh"), launcher);
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(dir.resolve("lib/parrot.jar"), jar.toAbsolutePath());
        Files.createSymbolicLink(dir.resolve("runtime"), Path.of(System.getProperty("java.home")).toRealPath());
        return dir;
    }

    /** Polls until ready; on timeout fails with the job's state, its task logs and the daemons' logs. */
    static void await(int seconds, String what, String job, BooleanSupplier ready) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (ready.getAsBoolean()) return;
            Thread.sleep(100);
        }
        fail("waited " + seconds + " s for " + what + "\n" + diagnostics(job));
    }

    static String diagnostics(String job) {
        StringBuilder b = new StringBuilder();
        try {
            b.append(run(env, cluster, 20, "squeue", "-a", "-j", job, "-t", "all").out());
            b.append(run(env, cluster, 20, "scontrol", "show", "job", job).out());
            for (String log : List.of("log/slurmctld.log", "log/slurmd.log", "jobcomp.txt")) {
                Path f = cluster.resolve(log);
                if (!Files.exists(f)) continue;
                List<String> lines = Files.readAllLines(f);
                b.append("--- ").append(log).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()))).append('\n');
            }
        } catch (Exception e) {
            b.append("(diagnostics failed: ").append(e.getMessage()).append(")");
        }
        return b.toString();
    }

    /** The state slurmctld has for one array task (e.g. 12_1): PENDING, RUNNING, FAILED, COMPLETED, ... */
    static String jobState(Map<String, String> env, Path dir, String task) {
        String s = show(env, dir, task);
        Matcher m = Pattern.compile("JobState=(\\S+)").matcher(s);
        return m.find() ? m.group(1) : "?";
    }

    static int restarts(Map<String, String> env, Path dir, String task) {
        Matcher m = Pattern.compile("Restarts=(\\d+)").matcher(show(env, dir, task));
        assertTrue(m.find(), "no Restarts= for " + task);
        return Integer.parseInt(m.group(1));
    }

    static String show(Map<String, String> env, Path dir, String task) {
        try {
            return run(env, dir, 20, "scontrol", "show", "job", task).out();
        } catch (Exception e) {
            return "";
        }
    }

    /** The pid of the array task's step-0 process (the JVM: bin/parrot execs it), from scontrol listpids. */
    static long stepPid(Map<String, String> env, Path dir, String task) throws Exception {
        Matcher id = Pattern.compile("JobId=(\\d+)").matcher(show(env, dir, task));
        assertTrue(id.find(), "no job id for " + task);
        Proc p = run(env, dir, 20, "scontrol", "listpids", id.group(1));
        for (String line : p.out().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 4 && f[2].equals("0") && f[3].equals("0")) {
                long pid = Long.parseLong(f[0]);
                String cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
                assertTrue(cmd.contains("parrot.jar") && cmd.contains("sweep"), "step 0 of " + task + " is not parrot: " + cmd);
                return pid;
            }
        }
        throw new AssertionError("no step 0 task in scontrol listpids " + id.group(1) + ":\n" + p.out());
    }

    /** JobState of each run of each array task of the job, in order, from jobcomp/filetxt's records. */
    static Map<Integer, List<String>> jobcomp(String job) throws IOException {
        Map<Integer, List<String>> byTask = new LinkedHashMap<>();
        Pattern rec = Pattern.compile("JobState=(\\S+).*ArrayJobId=" + job + " ArrayTaskId=(\\d+)");
        for (String line : Files.readAllLines(cluster.resolve("jobcomp.txt"))) {
            Matcher m = rec.matcher(line);
            if (m.find()) byTask.computeIfAbsent(Integer.parseInt(m.group(2)), k -> new ArrayList<>()).add(m.group(1));
        }
        return byTask;
    }

    static JsonNode merge(Path bundle, Path work, Path results, Path table) throws Exception {
        Proc p = run(Map.of(), work, 120, bundle.resolve("bin/parrot").toString(), "merge", results.toString(), "--out", table.toString());
        assertEquals(0, p.code(), "parrot merge " + results + ":\n" + p.out());
        return ResultsIO.JSON.readTree(table.toFile());
    }

    /** The run without its clock readings, at any depth (the loss curve's points carry tokens_per_second too). */
    static JsonNode withoutTiming(JsonNode run) {
        JsonNode o = run.deepCopy();
        strip(o);
        return o;
    }

    private static void strip(JsonNode n) {
        if (n instanceof ObjectNode o) TIMING.forEach(o::remove);
        n.forEach(SlurmClusterTest::strip);
    }

    /** Where two JSON trees first differ, as path: a vs b (null when equal). */
    static String firstDifference(JsonNode a, JsonNode b, String path) {
        if (a.equals(b)) return null;
        if (a.isObject() && b.isObject()) {
            for (var it = a.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!b.has(k)) return path + "." + k + " missing on the right";
                String d = firstDifference(a.get(k), b.get(k), path + "." + k);
                if (d != null) return d;
            }
            return path + ": extra fields on the right";
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                String d = firstDifference(a.get(i), b.get(i), path + "[" + i + "]");
                if (d != null) return d;
            }
        }
        return path + ": " + a + " vs " + b;
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
        return n;
    }
}
