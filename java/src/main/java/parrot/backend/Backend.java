package parrot.backend;

/**
 * The seam between models and the machines that run them. Models are written once against these ops; the CPU
 * backend is the reference and every other backend is checked against it.
 *
 * <p>Conventions, shared by every implementation:
 * <ul>
 *   <li>Activations are row-major 2-D: N = batch·time rows of C channels.</li>
 *   <li>Linear weights are [out, in] (torch.nn.Linear), so checkpoints load into PyTorch unchanged.</li>
 *   <li>A fused qkv row is GPT-NeoX's: per head, its q, k and v (head_dim each) side by side.</li>
 *   <li>Backward ops <b>accumulate</b> into every gradient they are given (input and parameter alike), so
 *       branches of a residual stream add up without extra copies; a null gradient is not computed.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** e.g. "cpu-f32", "cpu-f64", "cuda:0 (NVIDIA H100)". */
    String name();

    /** Floating-point type of the tensors {@link #zeros} makes. */
    Tensor.DType dtype();

    Tensor zeros(int... shape);

    Tensor zerosInt(int... shape);

    /** Gives the memory back now (device backends); using the tensor afterwards is an error. */
    default void release(Tensor t) {
    }

    void upload(Tensor dst, float[] src);

    void upload(Tensor dst, double[] src);

    void uploadInts(Tensor dst, int[] src);

    float[] toFloats(Tensor src);

    double[] toDoubles(Tensor src);

    int[] toInts(Tensor src);

    void zero(Tensor t);

    void copy(Tensor dst, Tensor src);

    // ---- elementwise -------------------------------------------------------------------------------

    /** out = a + b (out may alias a or b). */
    void add(Tensor out, Tensor a, Tensor b);

    /** dst += src. */
    void accumulate(Tensor dst, Tensor src);

    /** t *= s. */
    void scale(Tensor t, double s);

    /** Σ t², summed in a fixed order so that it is bitwise reproducible. */
    double sumSquares(Tensor t);

    /** Exact (erf) GELU, GPT-NeoX's hidden_act "gelu". */
    void geluForward(Tensor out, Tensor in);

    void geluBackward(Tensor din, Tensor dout, Tensor in);

    // ---- layers ------------------------------------------------------------------------------------

    /** out[n] = table[tokens[n]]. */
    void embeddingForward(Tensor out, Tensor tokens, Tensor table);

    void embeddingBackward(Tensor dtable, Tensor dout, Tensor tokens);

    /** out[N,O] = in[N,I] · weight[O,I]ᵀ + bias[O]; bias may be null. */
    void linearForward(Tensor out, Tensor in, Tensor weight, Tensor bias);

    void linearBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight);

    /** LayerNorm over the last dim; saves mean[N] and rstd[N] for backward. */
    void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, double eps);

    void layerNormBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight,
                           Tensor mean, Tensor rstd);

    // ---- attention ---------------------------------------------------------------------------------

    /**
     * out = qkv with each head's q and k rotated for positions posOffset .. posOffset+seqLen-1 (v copied).
     * qkv is [batch·seqLen, heads·3·headDim].
     */
    void ropeForward(Tensor out, Tensor qkv, RopeSpec spec, int batch, int seqLen, int posOffset);

    void ropeBackward(Tensor dqkv, Tensor dout, RopeSpec spec, int batch, int seqLen, int posOffset);

    /**
     * Causal attention with per-head windows and ALiBi slopes. qkv [batch·seqLen, H·3·hd] → out
     * [batch·seqLen, H·hd]; lse [batch, H, seqLen] (log-sum-exp of each row's scores) is saved for backward.
     */
    void attentionForward(Tensor out, Tensor lse, Tensor qkv, AttentionSpec spec, int batch, int seqLen);

    void attentionBackward(Tensor dqkv, Tensor dout, Tensor qkv, Tensor out, Tensor lse, AttentionSpec spec,
                           int batch, int seqLen);

    /**
     * One decoding step: qkv [batch, H·3·hd] holds the (rotated) projections of the token at position pos;
     * its k and v are written into the caches [batch, H, maxLen, hd] at pos, then its q attends to keys
     * 0..pos under the spec's windows and slopes. out is [batch, H·hd].
     */
    void attentionDecode(Tensor out, Tensor qkv, Tensor kCache, Tensor vCache, AttentionSpec spec, int batch,
                         int pos);

    // ---- loss and optimizer ------------------------------------------------------------------------

    /**
     * Softmax cross-entropy of logits [N,V] against targets [N] (a target below 0 is masked). Returns the sum
     * of the loss over unmasked rows. If dlogits is not null it is overwritten with
     * gradScale·(softmax − onehot) on unmasked rows and 0 on masked rows.
     */
    double crossEntropy(Tensor dlogits, Tensor logits, Tensor targets, double gradScale);

    /** out[n] = argmax_v logits[n, v] (lowest index on ties). */
    void argmax(Tensor out, Tensor logits);

    /**
     * One AdamW step (torch.optim.AdamW semantics, bias-corrected, step counted from 1):
     * p -= lr·wd·p; m,v updated; p -= lr·m̂/(√v̂ + eps).
     */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams hp, double weightDecay, int step,
               double lr);

    /**
     * Clips the global L2 norm of all gradients to maxNorm (torch.nn.utils.clip_grad_norm_: scale by
     * maxNorm/(norm+1e-6) when the norm exceeds it; maxNorm ≤ 0 only measures) and returns the norm before
     * clipping. One host round trip per step; a device backend may do it in one multi-tensor pass.
     */
    default double clipGradNorm(java.util.List<Tensor> grads, double maxNorm) {
        double s = 0;
        for (Tensor g : grads) s += sumSquares(g);
        double norm = Math.sqrt(s);
        if (maxNorm > 0 && norm > maxNorm) {
            double coef = maxNorm / (norm + 1e-6);
            for (Tensor g : grads) scale(g, coef);
        }
        return norm;
    }

    /** AdamW on many tensors at once (a device backend may fuse it into one multi-tensor launch). */
    default void adamw(java.util.List<Tensor> params, java.util.List<Tensor> grads, java.util.List<Tensor> m,
                       java.util.List<Tensor> v, AdamWParams hp, double[] weightDecay, int step, double lr) {
        for (int i = 0; i < params.size(); i++)
            adamw(params.get(i), grads.get(i), m.get(i), v.get(i), hp, weightDecay[i], step, lr);
    }

    /** Waits until all queued work is done (device backends; timing needs it). */
    default void synchronize() {
    }

    @Override
    default void close() {
    }
}
