package parrot.model;

import parrot.backend.AttentionSpec;
import parrot.backend.RopeSpec;
import parrot.config.ModelConfig;

/** The positional schemes of the paper, as attention masks/biases and an optional rotary embedding. */
public final class Positional {
    private Positional() {
    }

    public static AttentionSpec attention(ModelConfig m) {
        int h = m.nHeads();
        double[] slopes = new double[h];
        int[] windows = new int[h];
        switch (m.positional()) {
            case "alibi" -> {
                // Press et al.: m_h = 2^(-8h/H), h = 1..H
                for (int i = 0; i < h; i++) slopes[i] = Math.pow(2, -8.0 * (i + 1) / h);
            }
            case "hard-alibi" -> windows = m.resolvedWindows();
            case "nope", "rope" -> {
            }
            default -> throw new IllegalArgumentException("positional: unknown scheme " + m.positional());
        }
        return new AttentionSpec(h, m.headDim(), windows, slopes);
    }

    /** The rotary embedding for "rope", null for every other scheme. */
    public static RopeSpec rope(ModelConfig m) {
        return "rope".equals(m.positional()) ? RopeSpec.of(m.nHeads(), m.headDim(), m.rotaryPct(), m.ropeBase()) : null;
    }
}
