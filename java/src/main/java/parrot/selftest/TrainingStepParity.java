package parrot.selftest;

import parrot.backend.AdamWParams;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;
import parrot.data.Batch;
import parrot.data.Batcher;
import parrot.data.Task;
import parrot.data.Vocab;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.model.Parameter;
import parrot.train.Optimizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A whole training step of each model family on a candidate backend against a reference: the same weights
 * (initialisation is host-side and seeded), the same batch; the loss, every parameter gradient and every
 * parameter after one clipped AdamW step must agree.
 */
public final class TrainingStepParity {
    /** Small models covering every block type and positional scheme. */
    public static List<String> names() {
        return MODELS.stream().map(j -> "training step " + ConfigLoader.parseModel(j).family() + "/" + ConfigLoader.parseModel(j).name()).toList();
    }

    public static final List<String> MODELS = List.of(
            "{\"name\": \"nope\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"positional\": \"nope\"}",
            "{\"name\": \"rope\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"positional\": \"rope\"}",
            "{\"name\": \"alibi\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"positional\": \"alibi\"}",
            "{\"name\": \"hard-alibi\", \"d_model\": 64, \"n_heads\": 4, \"n_layers\": 2, \"positional\": \"hard-alibi\"}",
            // the recurrent families: every Mamba/LSTM op (scan, conv1d, RMSNorm, SiLU, −exp, column copies, LSTM)
            "{\"name\": \"mamba\", \"family\": \"mamba\", \"d_model\": 32, \"n_layers\": 2, \"d_state\": 8}",
            "{\"name\": \"mamba-rms\", \"family\": \"mamba\", \"d_model\": 32, \"n_layers\": 1, \"d_state\": 16, "
                    + "\"norm\": \"rmsnorm\"}",
            "{\"name\": \"lstm\", \"family\": \"lstm\", \"d_model\": 32, \"n_layers\": 2}",
            "{\"name\": \"hybrid\", \"family\": \"hybrid\", \"d_model\": 32, \"blocks\": \"mamba,attn,lstm\", "
                    + "\"d_state\": 4, \"n_heads\": 2, \"positional\": \"rope\", \"rotary_pct\": 0.5}");

    private TrainingStepParity() {
    }

    public static List<CheckResult> run(Backend ref, Backend cand, double tolerance) {
        List<CheckResult> out = new ArrayList<>();
        Task task = Task.create("copy", new Vocab(26));
        Batcher batcher = new Batcher(task, 1, 10, 4, 32, 5);
        Batch batch = batcher.batch(0);
        // recurrent models also see rows longer than the scan's checkpoint interval (64): chunk boundaries included
        Batch longRows = new Batcher(task, 1, 30, 2, 150, 7).batch(0);
        for (int i = 0; i < MODELS.size(); i++) {
            ModelConfig mc = ConfigLoader.parseModel(MODELS.get(i));
            String name = names().get(i);
            try {
                out.add(step(name, mc, task, mc.family().equals("transformer") ? batch : longRows, ref, cand, tolerance));
            } catch (RuntimeException e) {
                out.add(new CheckResult(name, "FAILED", Double.NaN, tolerance, e.toString()));
            }
        }
        return out;
    }

    private static CheckResult step(String name, ModelConfig mc, Task task, Batch batch, Backend ref, Backend cand,
                                    double tol) {
        LanguageModel a = ModelFactory.create(mc, task.vocab().size(), ref, 9);
        LanguageModel b = ModelFactory.create(mc, task.vocab().size(), cand, 9);
        double la = a.forwardBackward(batch.inputs(), batch.targets(), batch.batchSize(), batch.context());
        double lb = b.forwardBackward(batch.inputs(), batch.targets(), batch.batchSize(), batch.context());
        double worst = Math.abs(la - lb) / Math.abs(la);
        String where = "loss";
        List<Parameter> pa = a.parameters().list(), pb = b.parameters().list();
        for (int i = 0; i < pa.size(); i++) {
            double e = Pairs.error(ref.toDoubles(pa.get(i).grad()), cand.toDoubles(pb.get(i).grad()));
            if (!(e <= worst)) {
                worst = e;
                where = "grad " + pa.get(i).name();
            }
        }
        // After one clipped AdamW step, compare the next loss rather than the weights: an Adam step turns a
        // gradient that is zero up to rounding (the key bias, by softmax invariance) into ±lr on either side,
        // which the loss, rightly, does not see.
        AdamWParams hp = new AdamWParams(0.9, 0.999, 1e-8);
        new Optimizer(ref, pa, hp, 0.1, 1.0).step(1e-2);
        new Optimizer(cand, pb, hp, 0.1, 1.0).step(1e-2);
        a.forward(batch.inputs(), batch.batchSize(), batch.context());
        b.forward(batch.inputs(), batch.batchSize(), batch.context());
        double na = a.loss(batch.targets()), nb = b.loss(batch.targets());
        double e = Math.abs(na - nb) / Math.abs(la - na);     // relative to how far the step moved the loss
        if (!(e <= worst)) {
            worst = e;
            where = String.format("loss after one AdamW step %.6f vs %.6f", na, nb);
        }
        return new CheckResult(name, worst <= tol ? "PASSED" : "FAILED", worst, tol,
                String.format("loss %.6f vs %.6f; worst at %s", la, lb, where));
    }
}
