package parrot.backend;

/**
 * GPT-NeoX rotary embedding: the first {@code rotaryDims} dims of each head's q and k are rotated in the
 * "rotate_half" layout (dim i pairs with dim i + rotaryDims/2), frequencies base^(-2i/rotaryDims).
 */
public record RopeSpec(int heads, int headDim, int rotaryDims, double base) {
    public RopeSpec {
        if (rotaryDims % 2 != 0 || rotaryDims > headDim)
            throw new IllegalArgumentException("rotary dims must be even and <= head dim, got " + rotaryDims);
    }

    /** HF GPT-NeoX: rotary_ndims = int(head_size * rotary_pct). */
    public static RopeSpec of(int heads, int headDim, double rotaryPct, double base) {
        int r = (int) (headDim * rotaryPct);
        return new RopeSpec(heads, headDim, r - (r % 2), base);
    }

    public double invFreq(int i) {
        return 1.0 / Math.pow(base, (2.0 * i) / rotaryDims);
    }
}
