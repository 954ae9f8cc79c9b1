package parrot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.results.ResultsIO;
import parrot.sweep.Cell;
import parrot.sweep.Shard;
import parrot.sweep.Sweep;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** parrot sweep (cells, skip, resume, shards) and parrot merge. */
class SweepTest {
    static final String TINY = """
            {"name": "%s", "seed": 1,
             "task": {"type": "copy", "lengths": "1..4"},
             "train": {"steps": 4, "batch_size": 4, "context": 16, "lr": 3e-3, "warmup_steps": 1, "log_every": 2, "eval_every": 2, "eval_samples": 4},
             "eval": {"lengths": "2..4:2", "samples": 3},
             "models": [{"name": "a", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "hard-alibi"},
                        {"name": "b", "d_model": 16, "n_heads": 2, "n_layers": 1, "positional": "nope"}]}
            """;

    static Path sweepFile(Path dir, String body) throws IOException {
        Files.writeString(dir.resolve("one.json"), TINY.formatted("one"));
        Files.writeString(dir.resolve("two.json"), TINY.formatted("two"));
        Path f = dir.resolve("sweep.json");
        Files.writeString(f, body);
        return f;
    }

    @Test
    void cellsAreExperimentsTimesModelsTimesSeedsInCanonicalOrder(@TempDir Path tmp) throws IOException {
        Sweep s = Sweep.load(sweepFile(tmp, """
                {"name": "s", "experiments": ["one.json", "two.json"], "seeds": [7, 8, 9], "set": ["train.steps=3"]}
                """), List.of());
        assertEquals(12, s.cells().size());
        assertEquals("one/a/seed-7", s.cells().get(0).id());
        assertEquals("one/a/seed-8", s.cells().get(1).id());
        assertEquals("one/b/seed-7", s.cells().get(3).id());
        assertEquals("two/b/seed-9", s.cells().get(11).id());
        assertEquals(3, s.cells().get(5).experiment().train().steps());
        assertEquals(9, s.cells().get(5).seed());
        Sweep filtered = Sweep.load(sweepFile(tmp, """
                {"experiments": ["one.json"], "models": ["b"]}
                """), List.of());
        assertEquals("sweep", filtered.name());
        assertEquals(List.of("one/b/seed-1"), filtered.cells().stream().map(Cell::id).toList());
        // An experiment config is a sweep of itself.
        assertEquals(2, Sweep.load(tmp.resolve("one.json"), List.of()).cells().size());
        assertThrows(RuntimeException.class, () -> Sweep.load(sweepFile(tmp, "{\"experiments\": [\"one.json\"], \"sedes\": [1]}"), List.of()));
        assertThrows(RuntimeException.class, () -> Sweep.load(sweepFile(tmp, "{\"experiments\": [\"one.json\"], \"models\": [\"c\"]}"), List.of()));
        assertThrows(RuntimeException.class, () -> Sweep.load(sweepFile(tmp, "{\"experiments\": [\"nope.json\"]}"), List.of()));
    }

    @Test
    void everyCellBelongsToExactlyOneShard(@TempDir Path tmp) throws IOException {
        List<Cell> cells = Sweep.load(sweepFile(tmp, """
                {"experiments": ["one.json", "two.json"], "seeds": [1, 2, 3, 4, 5]}
                """), List.of()).cells();
        assertEquals(20, cells.size());
        for (int n = 1; n <= 25; n++) {
            List<String> union = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Shard sh = new Shard(i, n);
                List<Cell> mine = sh.select(cells);
                assertTrue(Math.abs(mine.size() - cells.size() / (double) n) < 1, "balanced: " + mine.size() + " of " + cells.size() + " for " + n);
                mine.forEach(c -> union.add(c.id()));
            }
            assertEquals(cells.size(), union.size(), "n=" + n);
            assertEquals(new HashSet<>(cells.stream().map(Cell::id).toList()), new HashSet<>(union), "n=" + n);
            for (int c = 0; c < cells.size(); c++) {
                int owners = 0;
                for (int i = 0; i < n; i++) if (new Shard(i, n).owns(c)) owners++;
                assertEquals(1, owners, "cell " + c + " of " + n + " shards");
                assertEquals(c % n, Shard.of(c, n));
            }
        }
        assertEquals(new Shard(3, 8), Shard.parse("3/8"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("8/8"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("-1/8"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("1"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("a/b"));
    }

    @Test
    void finishedCellsAreSkippedAndShardsMerge(@TempDir Path tmp) throws IOException {
        Path f = sweepFile(tmp, """
                {"name": "s", "experiments": ["one.json"], "seeds": [1, 2]}
                """);
        Path out = tmp.resolve("out");
        // Two shards, as two jobs of an array would run them.
        assertEquals(0, Main.run("sweep", f.toString(), "--out", out.toString(), "--shard", "0/2", "--no-progress"));
        assertEquals(2, results(out).size());
        assertEquals(0, Main.run("sweep", f.toString(), "--out", out.toString(), "--shard", "1/2", "--no-progress"));
        List<Path> all = results(out);
        assertEquals(4, all.size());

        // Rerun: every cell is done; nothing is touched.
        FileTime old = FileTime.fromMillis(1_000_000);
        for (Path r : all) Files.setLastModifiedTime(r, old);
        String dry = stdout(() -> Main.run("sweep", f.toString(), "--out", out.toString(), "--dry-run"));
        assertEquals(4, dry.lines().filter(l -> l.strip().startsWith("done")).count(), dry);
        assertEquals(0, Main.run("sweep", f.toString(), "--out", out.toString(), "--no-progress"));
        for (Path r : all) assertEquals(old, Files.getLastModifiedTime(r), r + " was rewritten");
        // A config edited since: its results are stale, not done.
        dry = stdout(() -> Main.run("sweep", f.toString(), "--out", out.toString(), "--dry-run", "--set", "eval.samples=4"));
        assertEquals(0, dry.lines().filter(l -> l.strip().startsWith("done")).count(), dry);

        // A truncated result is not finished: that cell alone runs again (resuming its complete checkpoint).
        Path broken = out.resolve("one/b/seed-2/result.json");
        byte[] good = Files.readAllBytes(broken);
        Files.write(broken, java.util.Arrays.copyOf(good, good.length / 2));
        dry = stdout(() -> Main.run("sweep", f.toString(), "--out", out.toString(), "--dry-run"));
        assertTrue(dry.contains("resume one/b/seed-2"), dry);
        assertEquals(0, Main.run("sweep", f.toString(), "--out", out.toString(), "--no-progress"));
        for (Path r : all) {
            if (r.equals(broken)) assertNotEquals(old, Files.getLastModifiedTime(r));
            else assertEquals(old, Files.getLastModifiedTime(r), r + " was rewritten");
        }
        JsonNode again = ResultsIO.JSON.readTree(broken.toFile());
        JsonNode before = ResultsIO.JSON.readTree(new String(good));
        assertEquals(before.get("accuracy"), again.get("accuracy"), "resumed from the final checkpoint: same model, same accuracy");
        assertEquals(before.get("loss_curve").size(), again.get("loss_curve").size());

        // Merge: one table with every run and a row per (run, task, length).
        Path table = tmp.resolve("table.json");
        assertEquals(0, Main.run("merge", out.resolve("one/a").toString(), out.resolve("one/b").toString(), "--out", table.toString()));
        JsonNode t = ResultsIO.JSON.readTree(table.toFile());
        assertEquals("parrot.table/1", t.get("schema").asText());
        assertEquals(4, t.get("runs").size());
        assertEquals(4 * 2, t.get("rows").size());
        Set<String> keys = new HashSet<>();
        for (JsonNode r : t.get("runs")) keys.add(r.get("model").asText() + r.get("seed").asText());
        assertEquals(Set.of("a1", "a2", "b1", "b2"), keys);
        JsonNode row = t.get("rows").get(0);
        for (String k : List.of("experiment", "model", "seed", "task", "length", "string_accuracy", "char_accuracy", "examples_seen"))
            assertTrue(row.has(k), k);
        // The eval_every probe tests the training lengths 1..4 (by default) with train.eval_samples strings each;
        // the final evaluation eval.lengths with eval.samples; every accuracy carries its interval.
        JsonNode probe = t.get("runs").get(0).get("eval_curve").get(0).get("accuracy");
        assertEquals(List.of(1, 2, 3, 4), java.util.stream.StreamSupport.stream(probe.spliterator(), false)
                .map(a -> a.get("length").asInt()).toList());
        assertEquals(4, probe.get(0).get("samples").asInt());
        assertTrue(probe.get(0).has("string_accuracy_lo") && row.has("string_accuracy_hi"));
        // Seeds 1 and 2 of each model aggregate into one row a length.
        assertEquals(2 * 2, t.get("aggregates").size());
        assertEquals(2, t.get("aggregates").get(0).get("seeds").size());
        assertEquals(2, t.get("examples_to_90").size());
        // A table merges again like a folder of results.
        Path table2 = tmp.resolve("table2.json");
        assertEquals(0, Main.run("merge", table.toString(), "--out", table2.toString()));
        assertEquals(4, ResultsIO.JSON.readTree(table2.toFile()).get("runs").size());
    }

    static List<Path> results(Path out) throws IOException {
        if (!Files.isDirectory(out)) return List.of();
        try (var s = Files.walk(out)) {
            return s.filter(p -> p.getFileName().toString().equals("result.json")).sorted().toList();
        }
    }

    static String stdout(java.util.function.IntSupplier run) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(0, run.getAsInt());
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }
}
