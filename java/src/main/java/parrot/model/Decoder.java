package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Token-by-token inference with per-block state (KV caches, recurrent states): O(1) new work per token for
 * recurrent blocks, O(window or position) for attention. Feed the prompt with {@link #feed}, then extend with
 * {@link #greedy}.
 */
public final class Decoder {
    private final LanguageModel model;
    private final Backend be;
    private final DecodeMemory mem;
    private final int batch, maxLen;
    final List<Block.Step> steps = new ArrayList<>();
    final Tensor tokens, h, mean, rstd, logits, argmax;
    final Tensor[] x;
    private int pos;

    Decoder(LanguageModel model, int batch, int maxLen) {
        this.model = model;
        this.be = model.backend();
        this.mem = new DecodeMemory(be);
        this.batch = batch;
        this.maxLen = maxLen;
        for (Block b : model.blocks()) steps.add(b.decoder(batch, maxLen, mem));
        tokens = mem.zerosInt(batch);
        argmax = mem.zerosInt(batch);
        x = new Tensor[model.blocks().size() + 1];
        for (int i = 0; i < x.length; i++) x[i] = mem.zeros(batch, model.width(i));
        h = mem.zeros(batch, model.width(x.length - 1));
        mean = mem.zeros(batch);
        rstd = mem.zeros(batch);
        logits = mem.zeros(batch, model.vocab());
    }

    public int position() {
        return pos;
    }

    /** Feeds one token per sequence; returns the logits tensor [batch, vocab] for the next token. */
    public Tensor feed(int[] tokenIds) {
        if (tokenIds.length != batch) throw new IllegalArgumentException(tokenIds.length + " tokens for a batch of " + batch);
        if (pos >= maxLen) throw new IllegalStateException("decoder is full at " + maxLen + " tokens");
        Tensor out = model.step(this, tokenIds, pos);
        pos++;
        return out;
    }

    /** Feeds a prompt [batch][len] column by column; returns the logits after its last token. */
    public Tensor feedPrompt(int[][] prompts) {
        int len = prompts[0].length;
        Tensor out = null;
        int[] col = new int[batch];
        for (int t = 0; t < len; t++) {
            for (int b = 0; b < batch; b++) col[b] = prompts[b][t];
            out = feed(col);
        }
        return out;
    }

    /** Argmax of the last logits, per sequence. */
    public int[] argmax() {
        be.argmax(argmax, logits);
        return be.toInts(argmax);
    }

    /** Greedy continuation of n tokens after a prompt was fed: [batch][n]. */
    public int[][] greedy(int n) {
        int[][] out = new int[batch][n];
        for (int i = 0; i < n; i++) {
            int[] next = argmax();
            for (int b = 0; b < batch; b++) out[b][i] = next[b];
            if (i + 1 < n) feed(next);
        }
        return out;
    }

    /** Gives back every tensor of this decoder, the blocks' caches and states included. */
    public void release() {
        mem.releaseAll();
    }
}
