package parrot.cli;

import parrot.backend.Backend;
import parrot.eval.pretrained.CopyTextPrompts;
import parrot.eval.pretrained.PhoneBookPrompts;
import parrot.eval.pretrained.PointResult;
import parrot.eval.pretrained.PretrainedConfig;
import parrot.eval.pretrained.PretrainedEvaluator;
import parrot.eval.pretrained.PretrainedResult;
import parrot.eval.pretrained.PretrainedTask;
import parrot.eval.pretrained.SquadPrompts;
import parrot.hf.HfModel;
import parrot.hf.HfTokenizer;
import parrot.results.ResultsIO;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** `parrot eval --hf DIR` and `parrot eval --pretrained CONFIG`: the pretrained-model evaluations. */
final class PretrainedRun {
    static final String DEFAULT_TEXT = "copy-text.txt";

    private PretrainedRun() {
    }

    /** The tokenizer for a model: the one given, else the folder's tokenizer.json. */
    static HfTokenizer tokenizer(Path given, Path hfDir) {
        return HfTokenizer.load(given != null ? given : hfDir);
    }

    static PretrainedTask task(String name, HfModel m, HfTokenizer tok, Path data, int[] lengths) {
        return switch (name) {
            case "phonebook" -> {
                if (data != null) throw new IllegalArgumentException("--text/--squad: the phone book takes no data file");
                yield new PhoneBookPrompts();
            }
            case "copy-text", "copy-text-shuffled" -> new CopyTextPrompts(tok, data == null ? defaultText() : read(data),
                    name.endsWith("-shuffled"));
            case "squad" -> {
                if (data == null) throw new IllegalArgumentException("--squad: required with --task squad (a SQuAD v1.1 JSON file, e.g. dev-v1.1.json)");
                SquadPrompts s = new SquadPrompts(tok, data, m.config().family().equals("gpt_neox"));
                s.buckets(lengths);
                yield s;
            }
            default -> throw new IllegalArgumentException("--task: '" + name + "' is not a pretrained task; allowed: "
                    + String.join(", ", PretrainedConfig.TASKS));
        };
    }

    static String defaultText() {
        try (InputStream in = PhoneBookPrompts.class.getResourceAsStream(DEFAULT_TEXT)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the default copy text is missing from the jar");
        }
    }

    static String read(Path text) {
        try {
            return Files.readString(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(text + ": cannot read (" + e.getMessage() + ")");
        }
    }

    static PretrainedResult evaluate(HfModel m, HfTokenizer tok, String taskName, int[] lengths, int samples, Path data,
                                     int batchSize, long seed, Backend be, PrintStream log) {
        PretrainedTask task = task(taskName, m, tok, data, lengths);
        long t0 = System.nanoTime();
        String started = Instant.now().toString();
        PretrainedEvaluator ev = new PretrainedEvaluator(m.model(), tok, task, batchSize, m.config().eosTokenId(), seed);
        log.printf("%s on %s (%s, %,d parameters, %s)%n", m.name(), task.name(), m.config().family(), m.parameters(), be.name());
        List<PointResult> points = ev.evaluate(lengths, samples, p -> log.printf(Locale.ROOT, "  %s %5d: accuracy %.3f%s (n = %d)%n",
                task.lengthUnit(), p.length(), p.accuracy(), p.f1() == null ? "" : String.format(Locale.ROOT, ", F1 %.3f", p.f1()), p.n()));
        int maxPos = m.config().maxPositions();
        if (maxPos > 0 && ev.longestPrompt() > maxPos)
            log.printf("note: prompts reached %d tokens, past max_position_embeddings %d (the context %s was trained on)%n",
                    ev.longestPrompt(), maxPos, m.name());
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("samples", samples);
        options.put("batch_size", batchSize);
        if (taskName.startsWith("copy-text")) options.put("text", data == null ? "parrot default (" + DEFAULT_TEXT + ")" : data.toString());
        if (taskName.equals("squad")) options.put("file", data.toString());
        if (maxPos > 0) options.put("max_position_embeddings", maxPos);
        options.put("longest_prompt_tokens", ev.longestPrompt());
        return new PretrainedResult(PretrainedResult.SCHEMA, m.name(), m.config().family(), m.dir().toString(),
                tok.file().toString(), m.parameters(), task.name(), task.lengthUnit(), options, seed, be.name(),
                BuildInfo.gitCommit(), started, (System.nanoTime() - t0) / 1e9, points);
    }

    /** Every model × task of a config; cells whose result file exists are skipped. */
    static void sweep(PretrainedConfig cfg, Backend be, PrintStream log) {
        for (PretrainedConfig.Model mc : cfg.models()) {
            List<PretrainedConfig.Task> todo = cfg.tasks().stream()
                    .filter(t -> !Files.exists(resultFile(cfg, mc, t.task()))).toList();
            if (todo.isEmpty()) {
                log.println(mc.name() + ": every task done, skipped");
                continue;
            }
            HfModel m = HfModel.load(mc.hf(), be, mc.name());
            try (HfTokenizer tok = tokenizer(cfg.tokenizer(), mc.hf())) {
                for (PretrainedConfig.Task t : todo) {
                    PretrainedResult r = evaluate(m, tok, t.task(), t.lengths().values(), t.samples(), t.data(),
                            cfg.batchSize(), cfg.seed(), be, log);
                    Path f = resultFile(cfg, mc, t.task());
                    ResultsIO.write(f, r);
                    log.println("wrote " + f);
                }
            } finally {
                m.release();
            }
        }
    }

    static Path resultFile(PretrainedConfig cfg, PretrainedConfig.Model m, String task) {
        return cfg.out().resolve(m.name()).resolve(task + ".json");
    }
}
