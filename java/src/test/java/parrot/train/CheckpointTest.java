package parrot.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.model.LanguageModel;
import parrot.model.Parameter;
import parrot.results.LossPoint;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Checkpoints: bitwise resume, atomic writes under kill -9 and a full disk, corrupt files refused, NaN guard. */
class CheckpointTest {
    static ExperimentConfig config(int steps, String... sets) {
        String json = """
                {"name": "ck", "seed": 5,
                 "task": {"type": "copy", "lengths": "1..5"},
                 "train": {"steps": %d, "batch_size": 8, "context": 32, "lr": 3e-3, "warmup_steps": 3, "log_every": 4},
                 "eval": {"lengths": "1..5", "samples": 4},
                 "models": [{"name": "m", "d_model": 32, "n_heads": 4, "n_layers": 2, "positional": "rope"}]}
                """.formatted(steps);
        return ConfigLoader.parse(json, List.of(sets));
    }

    static Trainer trainer(ExperimentConfig exp, Backend be) {
        return new Trainer(exp, exp.models().get(0), be, Tasks.of(exp.task()), null);
    }

    @Test
    void stoppedAndResumedRunEndsBitwiseIdenticalToAStraightOne(@TempDir Path tmp) throws IOException {
        ExperimentConfig exp = config(12, "train.checkpoint_every=5");
        Backend be = new CpuBackend();
        Trainer.Outcome straight = trainer(exp, be).checkpointTo(tmp.resolve("a/checkpoint")).run();

        // Stop after step 6: mid loss-curve window (log_every 4), after the periodic checkpoint at 5.
        StopSignal stop = StopSignal.manual();
        Trainer.Outcome first = new Trainer(exp, exp.models().get(0), be, Tasks.of(exp.task()),
                (step, total, loss, lr, tps) -> {
                    if (step == 6) stop.request("test");
                }).checkpointTo(tmp.resolve("b/checkpoint")).stopWhen(stop).run();
        assertTrue(first.stopped());
        assertEquals(6, first.stepsDone());

        Checkpoint.Resumable r = Checkpoint.loadForResume(tmp.resolve("b"));
        assertEquals(6, r.state().step());
        assertEquals(6, r.optimizerStep());
        Trainer.Outcome resumed = new Trainer(r.experiment(), r.model(), be, Tasks.of(r.experiment().task()), null)
                .checkpointTo(tmp.resolve("b/checkpoint")).resumeFrom(r).run();
        assertFalse(resumed.stopped());

        assertParametersBitwiseEqual(straight.model(), resumed.model());
        assertEquals(straight.lossCurve().size(), resumed.lossCurve().size());
        for (int i = 0; i < straight.lossCurve().size(); i++) {
            LossPoint a = straight.lossCurve().get(i), b = resumed.lossCurve().get(i);
            assertEquals(a.step(), b.step());
            assertEquals(Double.doubleToLongBits(a.loss()), Double.doubleToLongBits(b.loss()), "loss at point " + i);
            assertEquals(Double.doubleToLongBits(a.lr()), Double.doubleToLongBits(b.lr()));
            assertEquals(Double.doubleToLongBits(a.gradNorm()), Double.doubleToLongBits(b.gradNorm()));
        }
        assertEquals(Double.doubleToLongBits(straight.finalLoss()), Double.doubleToLongBits(resumed.finalLoss()));
        assertEquals(straight.examplesSeen(), resumed.examplesSeen());
        // The final checkpoints hold the same bytes (weights and AdamW moments).
        for (String f : List.of(Checkpoint.WEIGHTS, Checkpoint.OPTIMIZER))
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a/checkpoint").resolve(f)),
                    Files.readAllBytes(tmp.resolve("b/checkpoint").resolve(f)), f);
    }

    static void assertParametersBitwiseEqual(LanguageModel a, LanguageModel b) {
        List<Parameter> pa = a.parameters().list(), pb = b.parameters().list();
        assertEquals(pa.size(), pb.size());
        for (int i = 0; i < pa.size(); i++) {
            float[] x = a.backend().toFloats(pa.get(i).value()), y = b.backend().toFloats(pb.get(i).value());
            assertEquals(x.length, y.length);
            for (int j = 0; j < x.length; j++)
                assertEquals(Float.floatToRawIntBits(x[j]), Float.floatToRawIntBits(y[j]), pa.get(i).name() + "[" + j + "]");
        }
    }

    @Test
    void partialTemporaryDirectoryIsIgnoredAndCorruptFilesAreRefused(@TempDir Path tmp) throws IOException {
        ExperimentConfig exp = config(4, "train.checkpoint_every=2");
        Path ck = tmp.resolve("run/checkpoint");
        trainer(exp, new CpuBackend()).checkpointTo(ck).run();
        // A writer killed mid-checkpoint leaves a temporary sibling with partial files and no manifest.
        Path partial = tmp.resolve("run/checkpoint.tmp-4242-1");
        Files.createDirectories(partial);
        Files.write(partial.resolve(Checkpoint.WEIGHTS), new byte[]{1, 2, 3});
        assertEquals(ck, Checkpoint.find(tmp.resolve("run")));
        assertEquals(4, Checkpoint.loadForResume(tmp.resolve("run")).state().step());
        // The next save clears it.
        trainer(exp, new CpuBackend()).checkpointTo(ck).run();
        assertFalse(Files.exists(partial));

        // Truncated weights: refused, naming the file and the reason.
        Path good = tmp.resolve("good");
        copyDir(ck, good);
        truncate(ck.resolve(Checkpoint.WEIGHTS), 100);
        Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.find(ck));
        assertTrue(e.getMessage().contains("model.safetensors has 100 bytes, the manifest says"), e.getMessage());
        assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.load(ck, new CpuBackend()));
        // Same size, one byte flipped: the CRC catches it.
        Checkpoint.deleteRecursively(ck);
        copyDir(good, ck);
        try (FileChannel ch = FileChannel.open(ck.resolve(Checkpoint.OPTIMIZER), StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, 500);
            b.flip();
            b.put(0, (byte) (b.get(0) ^ 0x40));
            ch.write(b, 500);
        }
        e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.loadForResume(ck));
        assertTrue(e.getMessage().contains("optimizer.safetensors fails its CRC-32C check"), e.getMessage());
        // A swap interrupted between its renames: checkpoint is the broken one, checkpoint.prev the good one.
        copyDir(good, tmp.resolve("run/checkpoint.prev"));
        assertEquals(tmp.resolve("run/checkpoint.prev"), Checkpoint.find(tmp.resolve("run")));
        assertEquals(4, Checkpoint.loadForResume(tmp.resolve("run")).state().step());
        // No manifest at all (state present): incomplete.
        Files.delete(ck.resolve(Checkpoint.MANIFEST));
        e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.verify(ck));
        assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
    }

    @Test
    void fullDiskDuringACheckpointLosesNothingSaved(@TempDir Path tmp) throws IOException {
        ExperimentConfig exp = config(8, "train.checkpoint_every=4");
        Path ck = tmp.resolve("run/checkpoint");
        int[] saves = {0};
        // The second checkpoint (step 8) runs out of space halfway through the optimizer state.
        Checkpoint.Sink full = (file, ch) -> {
            if (file.getFileName().toString().equals(Checkpoint.WEIGHTS)) saves[0]++;
            if (saves[0] < 2 || !file.getFileName().toString().equals(Checkpoint.OPTIMIZER)) return ch;
            return new WritableByteChannel() {
                long written;

                @Override
                public int write(ByteBuffer src) throws IOException {
                    if (written > 20_000) throw new IOException("No space left on device");
                    int n = Math.min(src.remaining(), 8192);
                    ByteBuffer part = src.duplicate();
                    part.limit(part.position() + n);
                    int w = ch.write(part);
                    src.position(src.position() + w);
                    written += w;
                    return w;
                }

                @Override
                public boolean isOpen() {
                    return true;
                }

                @Override
                public void close() {
                }
            };
        };
        Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class,
                () -> trainer(exp, new CpuBackend()).checkpointTo(ck).sink(full).run());
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertTrue(e.getMessage().contains("is intact"), e.getMessage());
        assertEquals(4, Checkpoint.loadForResume(tmp.resolve("run")).state().step());
        try (Stream<Path> s = Files.list(tmp.resolve("run"))) {
            assertEquals(List.of("checkpoint"), s.map(p -> p.getFileName().toString()).toList(), "no temporaries left");
        }
    }

    @Test
    void nonFiniteLossOrGradientStopsNamingStepAndTensor(@TempDir Path tmp) {
        ExperimentConfig exp = config(10, "train.checkpoint_every=3");
        String poisoned = "gpt_neox.layers.1.attention.dense.weight";
        // A NaN gradient at step 5: the optimizer refuses the step.
        NonFiniteException g = assertThrows(NonFiniteException.class, () -> trainer(exp, new CpuBackend())
                .checkpointTo(tmp.resolve("g/checkpoint"))
                .afterBackward((step, model) -> {
                    if (step == 5) poison(model, poisoned, true);
                }).run());
        assertEquals(5, g.step());
        assertEquals(poisoned, g.tensor());
        assertEquals("gradient", g.kind());
        assertTrue(g.getMessage().startsWith("step 5: non-finite gradient: " + poisoned), g.getMessage());
        assertTrue(g.getMessage().contains("the last good checkpoint, step 3"), g.getMessage());
        assertEquals(3, Checkpoint.loadForResume(tmp.resolve("g")).state().step());

        // An infinite weight at step 5 (finite gradients): the check after the update names it, at step 5.
        NonFiniteException l = assertThrows(NonFiniteException.class, () -> trainer(exp, new CpuBackend())
                .checkpointTo(tmp.resolve("l/checkpoint"))
                .afterBackward((step, model) -> {
                    if (step == 5) poison(model, poisoned, false);
                }).run());
        assertEquals(5, l.step());
        assertEquals("weight", l.kind());
        assertEquals(poisoned, l.tensor());
        assertTrue(l.getMessage().contains("non-finite weight after the update: " + poisoned), l.getMessage());
        assertEquals(3, Checkpoint.loadForResume(tmp.resolve("l")).state().step());
    }

    private static void poison(LanguageModel model, String name, boolean gradient) {
        Parameter p = model.parameters().get(name);
        Backend be = model.backend();
        float[] v = be.toFloats(gradient ? p.grad() : p.value());
        v[3] = gradient ? Float.NaN : Float.POSITIVE_INFINITY;
        be.upload(gradient ? p.grad() : p.value(), v);
    }

    /** kill -9 of a JVM that writes checkpoints back to back: a complete one always remains. */
    @Test
    void killNineDuringCheckpointWritesKeepsALoadableCheckpoint(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int lastStep = -1;
        for (int round = 0; round < 3; round++) {
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    CheckpointWriterChild.class.getName(), run.resolve("checkpoint").toString(), String.valueOf(round * 100))
                    .redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
            String line;
            int saved = 0;
            while ((line = out.readLine()) != null) if (line.startsWith("saved") && ++saved >= 2 + round) break;
            assertNotNull(line, "child ended before saving");
            Thread.sleep(7L * round); // kill at varying points of the next write
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            Checkpoint.Resumable r = Checkpoint.loadForResume(run);
            assertTrue(r.state().step() >= round * 100 + 1, "round " + round + ": step " + r.state().step());
            assertEquals(r.state().step(), r.optimizerStep());
            lastStep = r.state().step();
        }
        assertTrue(lastStep >= 200);
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : s.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
    }
}
