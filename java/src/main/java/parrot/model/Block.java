package parrot.model;

import parrot.backend.Tensor;

/**
 * One block of a stack, y = block(x): residual blocks (attention, Mamba) compute y = x + f(x), an LSTM layer
 * y = LSTM(x). Blocks own their activations for the current (batch, seqLen) and accumulate into dx in
 * backward, so the stack just chains them.
 */
public interface Block {
    /** Width of y for an x of width inputWidth (only an LSTM layer changes it). */
    default int outputWidth(int inputWidth) {
        return inputWidth;
    }

    /** Allocates activations for this shape (called when it changes). */
    void plan(int batch, int seqLen);

    void forward(Tensor y, Tensor x);

    /** dx += ∂L/∂x given dy = ∂L/∂y; parameter gradients accumulate. */
    void backward(Tensor dx, Tensor dy, Tensor x);

    /** State for decoding one token at a time (KV cache, recurrent state) for batch sequences up to maxLen. */
    Step decoder(int batch, int maxLen, DecodeMemory mem);

    /**
     * Decoding: y = block(x) for the token at position pos of each sequence, x and y [batch, C]; and, where the
     * block has one, a prefill that runs a whole prompt at once.
     */
    interface Step {
        void step(Tensor y, Tensor x, int pos);

        /** Whether {@link #prefill} is implemented; where not, the decoder steps through the prompt instead. */
        default boolean canPrefill() {
            return false;
        }

        /**
         * Positions 0..len−1 of a fresh state at once, the training-style forward over the sequence (GEMMs over
         * all positions, not one matrix-vector product per token): x and y [batch·len, C], rows sequence-major.
         * Leaves the state (KV cache, conv window, SSM or LSTM state) exactly as len calls of step would, so
         * stepping goes on at position len. Activations come from scratch, which the decoder gives back after
         * the call (so a prompt's activations are held for one block at a time).
         */
        default void prefill(Tensor y, Tensor x, int len, DecodeMemory scratch) {
            throw new UnsupportedOperationException("this block has no prefill; step through the prompt");
        }
    }
}
