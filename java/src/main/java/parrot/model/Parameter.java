package parrot.model;

import parrot.backend.Tensor;

/**
 * A named weight and its gradient. Names follow the Hugging Face layout of the model family
 * (gpt_neox.layers.0.attention.query_key_value.weight, ...) so checkpoints load in PyTorch.
 */
public record Parameter(String name, int[] shape, Tensor value, Tensor grad, boolean weightDecay) {
    public long size() {
        return value.size();
    }
}
