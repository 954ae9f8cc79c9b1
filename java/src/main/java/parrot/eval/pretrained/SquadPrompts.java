package parrot.eval.pretrained;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import parrot.data.Rng;
import parrot.hf.HfTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Question answering on a SQuAD v1.1-format file (reference code: squad_evaluation): each context with at least
 * two questions gives one prompt, {@code context + "\n\nQuestion: " + q1 + "\nAnswer: " + a1 + "\n\nQuestion: " + q2
 * + "\nAnswer: "} (a1 the first gold answer of q1); up to 200 new tokens, Pythia's end-of-text token suppressed at
 * the first step; the prediction is cut at "\n\n", stripped, and cut at "<|endoftext|>"; EM and F1 with SQuAD's
 * normalisation, the best over q2's gold answers. Contexts are grouped by their length in tokens: a length L of
 * {@code --lengths} is the bucket (previous L, L]; at most {@code samples} contexts per bucket (the reference: 30), in
 * file order.
 */
public final class SquadPrompts implements PretrainedTask {
    public static final int MAX_NEW = 200;
    static final String EOT = "<|endoftext|>";

    record Context(String context, int tokens, String q1, String a1, String q2, List<String> golds) {
    }

    private final List<Context> contexts = new ArrayList<>();
    private final boolean suppressEos;
    private int[] edges = new int[0];

    /** @param suppressEos the reference's begin_suppress_tokens, which it passes for Pythia only */
    public SquadPrompts(HfTokenizer tok, Path file, boolean suppressEos) {
        this.suppressEos = suppressEos;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        JsonNode data = root == null ? null : root.get("data");
        if (data == null || !data.isArray())
            throw new IllegalArgumentException(file + ": data: required, the SQuAD v1.1 list of {title, paragraphs}");
        for (int a = 0; a < data.size(); a++) {
            JsonNode paragraphs = data.get(a).path("paragraphs");
            for (int p = 0; p < paragraphs.size(); p++) {
                JsonNode par = paragraphs.get(p), qas = par.path("qas");
                String where = "data[" + a + "].paragraphs[" + p + "]";
                if (!par.path("context").isTextual()) throw new IllegalArgumentException(file + ": " + where + ".context: required, a string");
                if (qas.size() < 2) continue;
                List<String> g1 = answers(qas.get(0), file, where + ".qas[0]"), g2 = answers(qas.get(1), file, where + ".qas[1]");
                String ctx = par.get("context").asText();
                contexts.add(new Context(ctx, tok.encode(ctx).length, question(qas.get(0), file, where + ".qas[0]"), g1.get(0),
                        question(qas.get(1), file, where + ".qas[1]"), g2));
            }
        }
        if (contexts.isEmpty()) throw new IllegalArgumentException(file + ": no paragraph with two or more questions");
    }

    private static String question(JsonNode qa, Path file, String where) {
        if (!qa.path("question").isTextual()) throw new IllegalArgumentException(file + ": " + where + ".question: required, a string");
        return qa.get("question").asText();
    }

    private static List<String> answers(JsonNode qa, Path file, String where) {
        List<String> out = new ArrayList<>();
        for (JsonNode a : qa.path("answers")) if (a.path("text").isTextual()) out.add(a.get("text").asText());
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": " + where + ".answers: needs at least one {text}");
        return out;
    }

    /** The bucket edges, ascending: the lengths of the sweep. */
    public void buckets(int[] lengths) {
        for (int i = 1; i < lengths.length; i++)
            if (lengths[i] <= lengths[i - 1]) throw new IllegalArgumentException("--lengths: SQuAD bucket edges must ascend");
        edges = lengths.clone();
    }

    @Override
    public String name() {
        return "squad";
    }

    @Override
    public String lengthUnit() {
        return "context tokens";
    }

    @Override
    public List<Example> examples(int length, int samples, Rng rng) {
        int lo = 0;
        for (int e : edges) {
            if (e == length) break;
            lo = e;
        }
        List<Example> out = new ArrayList<>();
        for (Context c : contexts) {
            if (c.tokens() <= lo || c.tokens() > length) continue;
            String prompt = c.context() + "\n\nQuestion: " + c.q1() + "\nAnswer: " + c.a1() + "\n\nQuestion: " + c.q2() + "\nAnswer: ";
            out.add(new Example(prompt, c.golds(), MAX_NEW, length));
            if (out.size() == samples) break;
        }
        return out;
    }

    @Override
    public String prediction(String generated) {
        int cut = generated.indexOf("\n\n");
        String p = (cut < 0 ? generated : generated.substring(0, cut)).strip();
        int eot = p.indexOf(EOT);
        return eot < 0 ? p : p.substring(0, eot);
    }

    @Override
    public String stopText() {
        return "\n\n";
    }

    @Override
    public boolean suppressEosFirst() {
        return suppressEos;
    }

    @Override
    public boolean exactMatch(String prediction, List<String> answers) {
        return SquadScore.exactMatch(prediction, answers);
    }

    @Override
    public double f1(String prediction, List<String> answers) {
        return SquadScore.f1(prediction, answers);
    }
}
