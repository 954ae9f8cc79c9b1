package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.List;

/**
 * Token embedding → residual blocks → final LayerNorm → LM head, with masked cross-entropy. Shape-independent
 * state (parameters) lives here; activations are planned per (batch, seqLen) and reused across steps, so a
 * training step allocates nothing.
 */
public final class LanguageModel {
    /** HF names of the parts around the block stack; the head may be tied to the embedding. */
    public record Naming(String embedding, String finalNormWeight, String finalNormBias, String head) {
    }

    private final Backend be;
    private final ParameterSet params;
    private final List<Block> blocks;
    private final Parameter embed, normW, normB, head;
    private final int c, vocab;
    private final double eps;

    private int batch, seqLen;
    private Tensor tokens, targets, hNorm, normMean, normRstd, logits, dLogits, dHNorm;
    private Tensor[] res, dRes;

    public LanguageModel(ParameterSet params, List<Block> blocks, Parameter embed, Parameter normW, Parameter normB,
                         Parameter head, int dModel, int vocab, double eps) {
        this.be = params.backend();
        this.params = params;
        this.blocks = List.copyOf(blocks);
        this.embed = embed;
        this.normW = normW;
        this.normB = normB;
        this.head = head;
        this.c = dModel;
        this.vocab = vocab;
        this.eps = eps;
    }

    public Backend backend() {
        return be;
    }

    public ParameterSet parameters() {
        return params;
    }

    public List<Block> blocks() {
        return blocks;
    }

    public int vocab() {
        return vocab;
    }

    private void plan(int b, int t) {
        if (b == batch && t == seqLen) return;
        if (res != null) {
            for (Tensor x : res) be.release(x);
            for (Tensor x : dRes) be.release(x);
            for (Tensor x : new Tensor[]{tokens, targets, hNorm, normMean, normRstd, logits, dLogits, dHNorm}) be.release(x);
        }
        batch = b;
        seqLen = t;
        int n = b * t;
        tokens = be.zerosInt(n);
        targets = be.zerosInt(n);
        res = new Tensor[blocks.size() + 1];
        dRes = new Tensor[blocks.size() + 1];
        for (int i = 0; i < res.length; i++) {
            res[i] = be.zeros(n, c);
            dRes[i] = be.zeros(n, c);
        }
        hNorm = be.zeros(n, c);
        normMean = be.zeros(n);
        normRstd = be.zeros(n);
        logits = be.zeros(n, vocab);
        dLogits = be.zeros(n, vocab);
        dHNorm = be.zeros(n, c);
        for (Block blk : blocks) blk.plan(b, t);
    }

    /** Full forward over inputs [batch·seqLen]; returns the logits tensor [batch·seqLen, vocab]. */
    public Tensor forward(int[] inputs, int b, int t) {
        if (inputs.length != b * t) throw new IllegalArgumentException(inputs.length + " tokens for batch " + b + " × " + t);
        plan(b, t);
        be.uploadInts(tokens, inputs);
        be.embeddingForward(res[0], tokens, embed.value());
        for (int i = 0; i < blocks.size(); i++) blocks.get(i).forward(res[i + 1], res[i]);
        be.layerNormForward(hNorm, normMean, normRstd, res[blocks.size()], normW.value(),
                normB == null ? null : normB.value(), eps);
        be.linearForward(logits, hNorm, head.value(), null);
        return logits;
    }

    /**
     * Mean cross-entropy over targets ≥ 0 of the last forward; also leaves its gradient ready for backward.
     * Returns NaN if no target is unmasked.
     */
    public double loss(int[] targetIds) {
        int count = 0;
        for (int t : targetIds) if (t >= 0) count++;
        be.uploadInts(targets, targetIds);
        double sum = be.crossEntropy(dLogits, logits, targets, count == 0 ? 0 : 1.0 / count);
        return count == 0 ? Double.NaN : sum / count;
    }

    /** Accumulates every parameter's gradient of the last loss. */
    public void backward() {
        be.zero(dHNorm);
        be.linearBackward(dHNorm, head.grad(), null, dLogits, hNorm, head.value());
        int top = blocks.size();
        be.zero(dRes[top]);
        be.layerNormBackward(dRes[top], normW.grad(), normB == null ? null : normB.grad(), dHNorm, res[top],
                normW.value(), normMean, normRstd);
        for (int i = top - 1; i >= 0; i--) {
            be.zero(dRes[i]);
            blocks.get(i).backward(dRes[i], dRes[i + 1], res[i]);
        }
        be.embeddingBackward(embed.grad(), dRes[0], tokens);
    }

    /** One training pass: zero grads, forward, loss, backward. Returns the mean loss. */
    public double forwardBackward(int[] inputs, int[] targetIds, int b, int t) {
        params.zeroGrads();
        forward(inputs, b, t);
        double l = loss(targetIds);
        backward();
        return l;
    }

    /** A greedy/teacher-forced decoder over batch sequences of up to maxLen tokens. */
    public Decoder decoder(int b, int maxLen) {
        return new Decoder(this, b, maxLen);
    }

    /** One decoding step for the token at pos in each sequence; returns logits [b, vocab]. */
    Tensor step(Decoder d, int[] tokenIds, int pos) {
        be.uploadInts(d.tokens, tokenIds);
        be.embeddingForward(d.x[0], d.tokens, embed.value());
        for (int i = 0; i < blocks.size(); i++) d.steps.get(i).step(d.x[i + 1], d.x[i], pos);
        be.layerNormForward(d.h, d.mean, d.rstd, d.x[blocks.size()], normW.value(),
                normB == null ? null : normB.value(), eps);
        be.linearForward(d.logits, d.h, head.value(), null);
        return d.logits;
    }

    int dModel() {
        return c;
    }
}
