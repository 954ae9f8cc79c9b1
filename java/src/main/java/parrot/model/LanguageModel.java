package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.List;

/**
 * Token embedding → blocks → final norm (optional) → LM head, with masked cross-entropy. Shape-independent
 * state (parameters) lives here; activations are planned per (batch, seqLen) and reused across steps, so a
 * training step allocates nothing.
 *
 * <p>The head may be the embedding itself (Mamba's tied LM head): pass the same {@link Parameter} as embed
 * and head. It is then one parameter (stored once in checkpoints, one AdamW state) whose gradient
 * accumulates from both uses, since every backward op accumulates.
 */
public final class LanguageModel {
    /** HF names of the parts around the block stack; the head may be tied to the embedding. */
    public record Naming(String embedding, String finalNormWeight, String finalNormBias, String head) {
    }

    private final Backend be;
    private final ParameterSet params;
    private final List<Block> blocks;
    private final Parameter embed, head, headBias;
    private final Norm norm;
    private final int c, vocab;
    private final int[] widths;

    private int batch, seqLen;
    private Tensor tokens, targets, hNorm, normMean, normRstd, logits, dLogits, dHNorm;
    private Tensor[] res, dRes;

    /** GPT-NeoX layout: final LayerNorm (normW, normB), head without bias. */
    public LanguageModel(ParameterSet params, List<Block> blocks, Parameter embed, Parameter normW, Parameter normB,
                         Parameter head, int dModel, int vocab, double eps) {
        this(params, blocks, embed, new Norm(params.backend(), false, normW, normB, eps), head, null, dModel, vocab);
    }

    /**
     * @param norm     final norm, or null for none (the LSTM: its head reads the last layer's h directly)
     * @param head     [vocab, width of the last block's output]; may be embed itself (tied)
     * @param headBias [vocab] or null
     */
    public LanguageModel(ParameterSet params, List<Block> blocks, Parameter embed, Norm norm, Parameter head,
                         Parameter headBias, int dModel, int vocab) {
        this.be = params.backend();
        this.params = params;
        this.blocks = List.copyOf(blocks);
        this.embed = embed;
        this.norm = norm;
        this.head = head;
        this.headBias = headBias;
        this.c = dModel;
        this.vocab = vocab;
        widths = new int[this.blocks.size() + 1];
        widths[0] = dModel;
        for (int i = 0; i < this.blocks.size(); i++) widths[i + 1] = this.blocks.get(i).outputWidth(widths[i]);
        if (head.shape()[1] != widths[widths.length - 1])
            throw new IllegalArgumentException("head " + head.name() + " reads width " + head.shape()[1]
                    + " but the stack ends at width " + widths[widths.length - 1]);
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

    /** True when the LM head is the embedding matrix (one parameter, two uses). */
    public boolean tiedHead() {
        return head == embed;
    }

    private void plan(int b, int t) {
        if (b == batch && t == seqLen) return;
        if (res != null) {
            for (Tensor x : res) be.release(x);
            for (Tensor x : dRes) be.release(x);
            for (Tensor x : new Tensor[]{tokens, targets, logits, dLogits}) be.release(x);
            if (norm != null) for (Tensor x : new Tensor[]{hNorm, normMean, normRstd, dHNorm}) be.release(x);
        }
        batch = b;
        seqLen = t;
        int n = b * t, top = widths[blocks.size()];
        tokens = be.zerosInt(n);
        targets = be.zerosInt(n);
        res = new Tensor[blocks.size() + 1];
        dRes = new Tensor[blocks.size() + 1];
        for (int i = 0; i < res.length; i++) {
            res[i] = be.zeros(n, widths[i]);
            dRes[i] = be.zeros(n, widths[i]);
        }
        if (norm != null) {
            hNorm = be.zeros(n, top);
            normMean = be.zeros(n);
            normRstd = be.zeros(n);
            dHNorm = be.zeros(n, top);
        } else {
            hNorm = res[blocks.size()];
            dHNorm = dRes[blocks.size()];
        }
        logits = be.zeros(n, vocab);
        dLogits = be.zeros(n, vocab);
        for (Block blk : blocks) blk.plan(b, t);
    }

    /** Full forward over inputs [batch·seqLen]; returns the logits tensor [batch·seqLen, vocab]. */
    public Tensor forward(int[] inputs, int b, int t) {
        if (inputs.length != b * t) throw new IllegalArgumentException(inputs.length + " tokens for batch " + b + " × " + t);
        plan(b, t);
        be.uploadInts(tokens, inputs);
        be.embeddingForward(res[0], tokens, embed.value());
        for (int i = 0; i < blocks.size(); i++) blocks.get(i).forward(res[i + 1], res[i]);
        if (norm != null) norm.forward(hNorm, normMean, normRstd, res[blocks.size()]);
        be.linearForward(logits, hNorm, head.value(), headBias == null ? null : headBias.value());
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
        int top = blocks.size();
        be.zero(dHNorm);
        be.linearBackward(dHNorm, head.grad(), headBias == null ? null : headBias.grad(), dLogits, hNorm, head.value());
        if (norm != null) {
            be.zero(dRes[top]);
            norm.backward(dRes[top], dHNorm, res[top], normMean, normRstd);
        }
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

    /** One decoding step for the token at pos in each sequence; returns logits [b, vocab], or null if not wanted. */
    Tensor step(Decoder d, int[] tokenIds, int pos, boolean wantLogits) {
        be.uploadInts(d.tokens, tokenIds);
        be.embeddingForward(d.x[0], d.tokens, embed.value());
        for (int i = 0; i < blocks.size(); i++) d.steps.get(i).step(d.x[i + 1], d.x[i], pos);
        return wantLogits ? head(d) : null;
    }

    /** Final norm and LM head of the decoder's top features d.x[last] [b, width] into d.logits. */
    private Tensor head(Decoder d) {
        Tensor feat = d.x[blocks.size()];
        if (norm != null) {
            norm.forward(d.h, d.mean, d.rstd, feat);
            feat = d.h;
        }
        be.linearForward(d.logits, feat, head.value(), headBias == null ? null : headBias.value());
        return d.logits;
    }

    /**
     * Positions 0..len−1 of every sequence at once (tokens [b·len], sequence-major) through each block's
     * prefill; the residual stream [b·len, width] is held for two blocks at a time and each block's activations
     * for its own call only. The head runs on the last position's row alone (gathered by embeddingForward, a
     * row gather), and only if wanted.
     */
    Tensor prefill(Decoder d, int[] tokenIds, int len, boolean wantLogits) {
        int b = d.batch(), rows = b * len;
        DecodeMemory scratch = new DecodeMemory(be);
        Tensor cur = null, next = null;
        try {
            Tensor toks = scratch.zerosInt(rows);
            be.uploadInts(toks, tokenIds);
            cur = be.zeros(rows, widths[0]);
            be.embeddingForward(cur, toks, embed.value());
            scratch.releaseAll();
            for (int i = 0; i < blocks.size(); i++) {
                next = be.zeros(rows, widths[i + 1]);
                d.steps.get(i).prefill(next, cur, len, scratch);
                scratch.releaseAll();
                be.release(cur);
                cur = next;
                next = null;
            }
            if (!wantLogits) return null;
            Tensor last = scratch.zerosInt(b);
            int[] idx = new int[b];
            for (int s = 0; s < b; s++) idx[s] = s * len + len - 1;
            be.uploadInts(last, idx);
            be.embeddingForward(d.x[blocks.size()], last, cur);
            return head(d);
        } finally {
            scratch.releaseAll();
            if (cur != null) be.release(cur);
            if (next != null) be.release(next);
        }
    }

    int dModel() {
        return c;
    }

    /** Width of the stream entering block i (i = blocks().size(): the head's input). */
    int width(int i) {
        return widths[i];
    }
}
