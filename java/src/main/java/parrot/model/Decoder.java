package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Token-by-token inference with per-block state (KV caches, recurrent states): O(1) new work per token for
 * recurrent blocks, O(window or position) for attention. Run the prompt with {@link #prefill} (every block's
 * training-style forward over the whole prompt at once, which leaves the states as stepping would) or token by
 * token with {@link #feed}, then extend with {@link #greedy}. The final norm and the LM head (50k wide for the
 * pretrained models, the largest matrix of a small model) run only where logits are wanted: at a prompt position
 * whose next token nobody reads, {@code feed(tokens, false)} skips them, and prefill computes them for the last
 * position alone.
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
    private boolean haveLogits;

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

    public int batch() {
        return batch;
    }

    /** Feeds one token per sequence; returns the logits tensor [batch, vocab] for the next token. */
    public Tensor feed(int[] tokenIds) {
        return feed(tokenIds, true);
    }

    /**
     * Feeds one token per sequence. With wantLogits false the final norm and LM head are skipped (no sequence
     * needs this position's prediction) and null is returned; otherwise the logits tensor [batch, vocab].
     */
    public Tensor feed(int[] tokenIds, boolean wantLogits) {
        if (tokenIds.length != batch) throw new IllegalArgumentException(tokenIds.length + " tokens for a batch of " + batch);
        if (pos >= maxLen) throw new IllegalStateException("decoder is full at " + maxLen + " tokens");
        Tensor out = model.step(this, tokenIds, pos, wantLogits);
        pos++;
        haveLogits = wantLogits;
        return out;
    }

    /** Whether every block can run a prompt at once; otherwise {@link #prefill} steps through it. */
    public boolean canPrefill() {
        for (Block.Step s : steps) if (!s.canPrefill()) return false;
        return true;
    }

    /**
     * Runs positions 0..len−1 of a fresh decoder, prompts[b][0..len) for every sequence b, at once: each block's
     * forward over the whole block of tokens (GEMMs over batch·len rows instead of len matrix-vector products),
     * writing the KV caches and leaving the recurrent states at position len−1, so feeding goes on at len.
     * Blocks without a prefill make it step instead, the head skipped but at the last position. Returns the
     * logits [batch, vocab] after position len−1 when wantLogits, else null.
     */
    public Tensor prefill(int[][] prompts, int len, boolean wantLogits) {
        if (prompts.length != batch) throw new IllegalArgumentException(prompts.length + " prompts for a batch of " + batch);
        if (pos != 0) throw new IllegalStateException("prefill needs a fresh decoder; this one is at position " + pos);
        if (len < 1 || len > maxLen)
            throw new IllegalArgumentException("prefill of " + len + " positions; allowed 1.." + maxLen);
        for (int[] p : prompts)
            if (p.length < len) throw new IllegalArgumentException("a prompt of " + p.length + " tokens, prefill of " + len);
        if (!canPrefill()) {
            Tensor out = null;
            int[] col = new int[batch];
            for (int t = 0; t < len; t++) {
                for (int b = 0; b < batch; b++) col[b] = prompts[b][t];
                out = feed(col, wantLogits && t == len - 1);
            }
            return out;
        }
        int[] flat = new int[batch * len];
        for (int b = 0; b < batch; b++) System.arraycopy(prompts[b], 0, flat, b * len, len);
        Tensor out = model.prefill(this, flat, len, wantLogits);
        pos = len;
        haveLogits = wantLogits;
        return out;
    }

    /** Runs a prompt [batch][len] (all of one length) with {@link #prefill}; returns the logits after its last token. */
    public Tensor feedPrompt(int[][] prompts) {
        return prefill(prompts, prompts[0].length, true);
    }

    /** Argmax of the last logits, per sequence. */
    public int[] argmax() {
        if (!haveLogits) throw new IllegalStateException("no logits: the last position was fed without the head");
        be.argmax(argmax, logits);
        return be.toInts(argmax);
    }

    /** Greedy continuation of n tokens after a prompt was fed: [batch][n]. */
    public int[][] greedy(int n) {
        int[][] out = new int[batch][n];
        for (int i = 0; i < n; i++) {
            int[] next = argmax();
            for (int b = 0; b < batch; b++) out[b][i] = next[b];
            if (i + 1 < n) feed(next, true);
        }
        return out;
    }

    /** Gives back every tensor of this decoder, the blocks' caches and states included. */
    public void release() {
        mem.releaseAll();
    }
}
