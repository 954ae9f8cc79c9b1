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

    /** Decoding: y = block(x) for the token at position pos of each sequence, x and y [batch, C]. */
    interface Step {
        void step(Tensor y, Tensor x, int pos);
    }
}
