package parrot.backend;

/**
 * Per-head masking of causal attention, the part of a positional scheme that lives inside the attention op.
 *
 * @param heads   number of heads H
 * @param headDim dims per head
 * @param windows per head: 0 = plain causal, w > 0 = the query at q sees only keys q-w+1 .. q (Hard-ALiBi)
 * @param slopes  per head ALiBi slope m: score(q,k) += -m·(q-k); 0 = no bias
 */
public record AttentionSpec(int heads, int headDim, int[] windows, double[] slopes) {
    public AttentionSpec {
        if (windows.length != heads || slopes.length != heads)
            throw new IllegalArgumentException("windows and slopes need one entry per head (" + heads + ")");
        windows = windows.clone();
        slopes = slopes.clone();
    }

    public static AttentionSpec plain(int heads, int headDim) {
        return new AttentionSpec(heads, headDim, new int[heads], new double[heads]);
    }

    public int window(int h) {
        return windows[h];
    }

    public double slope(int h) {
        return slopes[h];
    }

    /** First key position query q of head h may see. */
    public int firstKey(int h, int q) {
        int w = windows[h];
        return w > 0 ? Math.max(0, q - w + 1) : 0;
    }

    public int width() {
        return heads * headDim;
    }
}
