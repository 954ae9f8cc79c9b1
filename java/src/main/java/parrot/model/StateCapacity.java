package parrot.model;

import parrot.config.ModelConfig;

import java.util.Optional;

/**
 * The theory beside the measurement: how much a fixed-size-state model can remember, and the longest string
 * it can copy by Jelassi et al. (2024), Theorem 2.7 / Corollary 2.8. A generalized state space model whose state
 * takes |S| values copies strings of length L over an alphabet of D letters with error at least
 * 1 − |S|/D^L; with a state of b bits (|S| = 2^b) the error exceeds 1/2 as soon as b &lt; L·log2 D − 1, so
 * strings longer than (b + 1)/log2 D cannot be copied with error below 1/2.
 *
 * <p>The state is what decoding carries from token to token: per Mamba block d_inner·(d_state + d_conv − 1)
 * floats (the SSM state and the conv window), per LSTM layer 2·hidden (h and c); each float holds
 * {@code bitsPerFloat} bits (32 for float32). A model with an attention block has a state that grows with the
 * sequence (its KV cache), so no bound applies.
 *
 * @param stateFloats  numbers in the recurrent state
 * @param bitsPerFloat bits per number
 */
public record StateCapacity(long stateFloats, int bitsPerFloat) {

    /** The fixed-size state of the config's stack; empty when a block has a growing state (attention). */
    public static Optional<StateCapacity> of(ModelConfig m, int bitsPerFloat) {
        long floats = 0;
        for (String block : m.stack()) {
            switch (block) {
                case "mamba" -> floats += (long) m.dInner() * (m.dState() + m.dConv() - 1);
                case "lstm" -> floats += 2L * m.lstmSize();
                default -> {
                    return Optional.empty();
                }
            }
        }
        return Optional.of(new StateCapacity(floats, bitsPerFloat));
    }

    /** Size of the state in bits. */
    public long bits() {
        return stateFloats * bitsPerFloat;
    }

    /** The longest L with L·log2 D − 1 ≤ bits, i.e. ⌊(bits + 1)/log2 D⌋: Corollary 2.8's copy length bound. */
    public long copyBoundLength(int alphabet) {
        if (alphabet < 2) throw new IllegalArgumentException("alphabet must have >= 2 letters, got " + alphabet);
        double log2d = Math.log(alphabet) / Math.log(2);
        long l = (long) Math.floor((bits() + 1) / log2d);
        // guard the floor against rounding: L must satisfy L·log2 D − 1 ≤ bits
        while (l * log2d - 1 > bits()) l--;
        while ((l + 1) * log2d - 1 <= bits()) l++;
        return l;
    }

    /** Theorem 2.7's lower bound on the copy error at length L: max(0, 1 − 2^bits / D^L). */
    public double errorLowerBound(int length, int alphabet) {
        double log2Ratio = bits() - length * (Math.log(alphabet) / Math.log(2));
        return log2Ratio >= 0 ? 0 : 1 - Math.pow(2, log2Ratio);
    }
}
