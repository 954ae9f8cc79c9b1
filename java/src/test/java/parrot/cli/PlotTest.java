package parrot.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import parrot.results.Plots;
import parrot.results.ResultsIO;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** parrot plot: every figure from result JSON, as a valid PNG of the expected size. */
class PlotTest {
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    /** A result.json as parrot writes it, with made-up numbers. */
    static ObjectNode run(String experiment, String model, long seed, String taskType, Long stateBits) {
        ObjectNode r = ResultsIO.JSON.createObjectNode();
        r.put("schema", "parrot.run/1").put("experiment", experiment).put("model", model).put("seed", seed);
        r.put("started_at", "2024-01-01T00:00:00Z").put("parameters", 1000);
        r.putObject("model_config").put("name", model).put("family", stateBits == null ? "transformer" : "mamba")
                .put("positional", "nope");
        r.putObject("task").put("type", taskType).put("alphabet", 26).put("lengths", "1..20").put("ngram", 3)
                .put("answer_length", 3).put("digits", 10);
        r.putObject("eval").put("lengths", "10..60:10").put("samples", 10);
        r.put("examples_seen", 5000);
        ArrayNode curve = r.putArray("eval_curve");
        for (int i = 1; i <= 5; i++) {
            ObjectNode p = curve.addObject().put("step", 100 * i).put("examples_seen", (long) Math.pow(10, i));
            p.putArray("accuracy").addObject().put("length", 60).put("samples", 10).put("string_accuracy", i / 5.0 - seed * 0.05)
                    .put("char_accuracy", 0.9);
        }
        ArrayNode tasks = r.putArray("task_accuracy");
        for (int n = 1; n <= 8; n++) {
            ObjectNode t = tasks.addObject();
            t.putObject("task").put("type", "copy-dup-ngram").put("ngram", n);
            t.putArray("accuracy").addObject().put("length", 60).put("samples", 10).put("string_accuracy", n <= 4 ? 0.95 : 0.3)
                    .put("char_accuracy", 0.9);
        }
        ArrayNode acc = r.putArray("accuracy");
        for (int len = 10; len <= 60; len += 10)
            acc.addObject().put("length", len).put("samples", 10).put("string_accuracy", len <= 20 ? 1.0 : 20.0 / len)
                    .put("char_accuracy", 0.9);
        r.put("final_loss", 0.1);
        if (stateBits != null) {
            r.put("state_bits", stateBits);
            r.put("copy_bound_length", (stateBits + 1) / 4.7);
        }
        return r;
    }

    static void assertPng(Path f, int width, int height) throws IOException {
        byte[] b = Files.readAllBytes(f);
        assertTrue(b.length > 5000, f + " is only " + b.length + " bytes");
        assertArrayEquals(PNG, Arrays.copyOf(b, 8), f + " has no PNG signature");
        BufferedImage img = ImageIO.read(f.toFile());
        assertNotNull(img, f + " does not decode");
        assertEquals(width, img.getWidth(), f.toString());
        assertEquals(height, img.getHeight(), f.toString());
    }

    @Test
    void everyFigureIsAValidPng(@TempDir Path tmp) throws IOException {
        Path res = tmp.resolve("results");
        for (long seed : new long[]{1, 2}) {
            for (String m : List.of("nope", "hard-alibi")) {
                ResultsIO.write(res.resolve("copy/" + m + "/seed-" + seed + "/result.json"), run("copy", m, seed, "copy", null));
                ResultsIO.write(res.resolve("lp/" + m + "/seed-" + seed + "/result.json"), run("lp", m, seed, "lookup-prefix", null));
                ResultsIO.write(res.resolve("ls/" + m + "/seed-" + seed + "/result.json"), run("ls", m, seed, "lookup-suffix", null));
            }
            ResultsIO.write(res.resolve("pb/m/seed-" + seed + "/result.json"), run("pb", "m", seed, "phonebook", null));
        }
        Path out = tmp.resolve("plots");
        String printed = SweepTest.stdout(() -> Main.run("plot", res.toString(), "--out", out.toString()));
        assertTrue(printed.contains("skipped capacity"), printed);
        List<String> names;
        try (Stream<Path> s = Files.list(out)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        for (String exp : List.of("copy", "lp", "ls", "pb")) {
            for (String kind : List.of("-accuracy-vs-examples.png", "-accuracy-vs-length.png", "-dup-ngram.png")) {
                assertTrue(names.contains(exp + kind), exp + kind + " in " + names);
                assertPng(out.resolve(exp + kind), Plots.WIDTH, Plots.HEIGHT);
            }
        }
        assertTrue(names.contains("lookup.png"), names.toString());
        assertPng(out.resolve("lookup.png"), 2 * Plots.WIDTH, Plots.HEIGHT);
        assertFalse(names.contains("capacity.png"));

        // With state sizes (as the mamba/lstm families record them): the capacity figure.
        Path cap = tmp.resolve("cap");
        for (long bits : new long[]{1024, 4096, 16384})
            ResultsIO.write(cap.resolve("m" + bits + "/result.json"), run("capacity", "m" + bits, 1, "copy", bits));
        Path out2 = tmp.resolve("plots2");
        assertEquals(0, Main.run("plot", cap.toString(), "--out", out2.toString()));
        assertPng(out2.resolve("capacity.png"), Plots.WIDTH, Plots.HEIGHT);
    }

    @Test
    void noResultsIsAClearError(@TempDir Path tmp) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            assertEquals(2, Main.run("plot", tmp.toString(), "--out", tmp.resolve("p").toString()));
        } finally {
            System.setErr(old);
        }
        assertTrue(buf.toString().contains("no parrot.run/1 result found"), buf.toString());
    }
}
