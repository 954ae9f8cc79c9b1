package parrot.results;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Made-up result.json documents, shaped as parrot writes them, for the results tests. */
final class RunFixtures {
    private RunFixtures() {
    }

    /** A copy run (train 1..10, 600 steps) with string accuracy {@code acc[i]} at length 2(i+1) on n strings. */
    static ObjectNode run(String experiment, String model, long seed, int n, double... acc) {
        ObjectNode r = ResultsIO.JSON.createObjectNode();
        r.put("schema", "parrot.run/1").put("experiment", experiment).put("model", model).put("seed", seed);
        r.put("source", experiment + "/" + model + "/seed-" + seed + "/result.json");
        r.put("started_at", "2024-01-01T00:00:0" + seed + "Z").put("parameters", 1000);
        r.putObject("model_config").put("name", model).put("family", "transformer").put("positional", "nope");
        r.putObject("task").put("type", "copy").put("alphabet", 26).put("lengths", "1..10").put("ngram", 3)
                .put("answer_length", 3).put("digits", 10);
        r.putObject("train").put("steps", 600).put("lr", 0.003).put("device", "cpu").put("log_every", 50);
        r.putObject("eval").put("lengths", "2..30:2").put("samples", n);
        r.put("examples_seen", 60000);
        r.putArray("eval_curve");
        r.putArray("task_accuracy");
        ArrayNode a = r.putArray("accuracy");
        for (int i = 0; i < acc.length; i++)
            a.addObject().put("length", 2 * (i + 1)).put("samples", n).put("string_accuracy", acc[i]).put("char_accuracy", acc[i]);
        r.put("final_loss", 0.1);
        return r;
    }

    /** Appends an eval_curve point: pooled over lengths 5 and 10 with these accuracies, 20 strings each. */
    static void probe(ObjectNode run, int step, long examples, double at5, double at10) {
        ObjectNode p = ((ArrayNode) run.get("eval_curve")).addObject().put("step", step).put("examples_seen", examples);
        p.putArray("accuracy").add(ResultsIO.JSON.createObjectNode().put("length", 5).put("samples", 20)
                        .put("string_accuracy", at5).put("char_accuracy", at5))
                .add(ResultsIO.JSON.createObjectNode().put("length", 10).put("samples", 20)
                        .put("string_accuracy", at10).put("char_accuracy", at10));
    }
}
