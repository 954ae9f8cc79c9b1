package parrot.selftest;

import parrot.backend.AdamWParams;
import parrot.backend.Backend;
import parrot.config.ConfigLoader;
import parrot.config.ModelConfig;
import parrot.data.Batch;
import parrot.data.Batcher;
import parrot.data.Task;
import parrot.data.Vocab;
import parrot.backend.Tensor;
import parrot.model.Decoder;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;
import parrot.model.Parameter;
import parrot.selftest.ParitySuite.Check;
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

    /** Relative: the loss and every gradient after a step; the next loss relative to how far the step moved it. */
    static final double TOLERANCE = 1e-3;

    static List<Check> checks() {
        Task task = Task.create("copy", new Vocab(26));
        List<Check> cs = new ArrayList<>();
        for (int i = 0; i < MODELS.size(); i++) {
            ModelConfig mc = ConfigLoader.parseModel(MODELS.get(i));
            cs.add(new Check(names().get(i) + " (then greedy decoding)", TOLERANCE, p -> {
                Batch batch = mc.family().equals("transformer") ? new Batcher(task, 1, 10, 4, 32, 5).batch(0)
                        // recurrent models also see rows longer than the scan's checkpoint interval (64)
                        : new Batcher(task, 1, 30, 2, 150, 7).batch(0);
                return step(p, mc, task, batch);
            }));
        }
        return cs;
    }

    private static double step(Pairs p, ModelConfig mc, Task task, Batch batch) {
        Backend ref = p.refBackend(), cand = p.candBackend();
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
        p.note(worst, String.format("loss %.6f vs %.6f; worst at %s", la, lb, where));
        p.keepAllocated();                      // the two models stay; what decoding leaves behind is a leak
        return Math.max(worst, decode(p, a, b, batch));
    }

    /**
     * Teacher-forced decoding of the batch's first rows (a prompt, then the reference's greedy tokens fed to both),
     * comparing every step's logits; the decoder's caches and states must all be given back.
     */
    private static double decode(Pairs p, LanguageModel a, LanguageModel b, Batch batch) {
        int rows = Math.min(2, batch.batchSize()), len = Math.min(12, batch.context());
        int[][] prompt = new int[rows][len];
        for (int r = 0; r < rows; r++) System.arraycopy(batch.inputs(), r * batch.context(), prompt[r], 0, len);
        Decoder da = a.decoder(rows, len + 4), db = b.decoder(rows, len + 4);
        double worst = 0;
        try {
            Tensor la = da.feedPrompt(prompt), lb = db.feedPrompt(prompt);
            for (int i = 0; ; i++) {
                worst = Math.max(worst, p.error(a.backend().toDoubles(la), b.backend().toDoubles(lb),
                        "decoding logits, step " + (len + i)));
                if (i == 4) break;
                int[] next = da.argmax();
                la = da.feed(next);
                lb = db.feed(next);
            }
        } finally {
            da.release();
            db.release();
        }
        return worst;
    }
}
