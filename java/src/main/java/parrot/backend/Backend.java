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

    /**
     * Part of a tensor: {@code src[srcOffset, srcOffset + count)} into elements {@code [dstOffset, dstOffset + count)}
     * of {@code dst} (row-major), the rest untouched. A loader fills a large tensor piece by piece through a small
     * buffer this way, never holding a second whole copy of it.
     */
    void upload(Tensor dst, int dstOffset, float[] src, int srcOffset, int count);

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

    /**
     * Prefill of a fresh KV cache: the (rotated) k and v of positions 0..seqLen−1 of qkv [batch·seqLen, H·3·hd]
     * go into the caches [batch, H, maxLen, hd] (seqLen ≤ maxLen) at those positions, exactly what seqLen calls
     * of attentionDecode would have written; the prompt's attention output itself comes from attentionForward.
     */
    void attentionFillCache(Tensor kCache, Tensor vCache, Tensor qkv, AttentionSpec spec, int batch, int seqLen);

    // ---- Mamba and LSTM ops ------------------------------------------------------------------------
    // Implemented by the CPU reference; the defaults let another backend compile before it mirrors them.

    /** The error a backend raises for an op it does not implement yet. */
    default UnsupportedOperationException unsupported(String op) {
        return new UnsupportedOperationException(name() + " does not implement " + op
                + " yet (Mamba/LSTM op; see Backend's javadoc for its exact semantics)");
    }

    // ---- columns, small activations ----------------------------------------------------------------

    /**
     * Column block copy between two row-major 2-D tensors with the same row count:
     * dst[r, dstCol + j] (+)= src[r, srcCol + j] for j in [0, width). With accumulate false the block is
     * overwritten (other columns of dst untouched), with true it is added. Splits fused projections (Mamba's
     * in_proj into x | z, x_proj into dt | B | C) and, accumulating, merges their gradients back.
     */
    default void copyColumns(Tensor dst, int dstCol, Tensor src, int srcCol, int width, boolean accumulate) {
        throw unsupported("copyColumns");
    }

    /** SiLU: out = x·σ(x) (out may alias in). */
    default void siluForward(Tensor out, Tensor in) {
        throw unsupported("siluForward");
    }

    /** din += dout·σ(x)·(1 + x·(1 − σ(x))). */
    default void siluBackward(Tensor din, Tensor dout, Tensor in) {
        throw unsupported("siluBackward");
    }

    /** out = −exp(in): Mamba's A = −exp(A_log). */
    default void negExpForward(Tensor out, Tensor in) {
        throw unsupported("negExpForward");
    }

    /** din += dout·out, out being negExpForward's result (d(−eˣ)/dx = −eˣ). */
    default void negExpBackward(Tensor din, Tensor dout, Tensor out) {
        throw unsupported("negExpBackward");
    }

    /**
     * RMSNorm over the last dim (mamba_ssm / HF MambaRMSNorm): out = x·rstd·weight with
     * rstd = 1/√(mean(x²) + eps); saves rstd[N] for backward. No bias.
     */
    default void rmsNormForward(Tensor out, Tensor rstd, Tensor in, Tensor weight, double eps) {
        throw unsupported("rmsNormForward");
    }

    default void rmsNormBackward(Tensor din, Tensor dweight, Tensor dout, Tensor in, Tensor weight, Tensor rstd) {
        throw unsupported("rmsNormBackward");
    }

    // ---- causal depthwise conv1d (Mamba) -----------------------------------------------------------

    /**
     * Causal depthwise 1-D convolution over time, torch.nn.Conv1d(C, C, K, groups=C, padding=K−1) truncated
     * to the first seqLen outputs. in and out are [batch·seqLen, C] (channels last), weight [C, K] (torch's
     * [C, 1, K]), bias [C] or null:
     * out[b,t,c] = bias[c] + Σ_{k<K} weight[c,k]·in[b, t−K+1+k, c], with in at negative times = 0.
     */
    default void conv1dForward(Tensor out, Tensor in, Tensor weight, Tensor bias, int batch, int seqLen) {
        throw unsupported("conv1dForward");
    }

    /** Accumulates din, dweight, dbias (any may be null) of conv1dForward. */
    default void conv1dBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight,
                        int batch, int seqLen) {
        throw unsupported("conv1dBackward");
    }

    /**
     * One decoding step of conv1dForward with a rolling window. state [batch, C, K−1] holds the previous K−1
     * inputs per channel, oldest first (zeros at the start of a sequence); in and out are [batch, C]:
     * out[b,c] = bias[c] + Σ_{k<K−1} weight[c,k]·state[b,c,k] + weight[c,K−1]·in[b,c]; then the window moves
     * on: state[b,c,·] = (state[b,c,1..K−2], in[b,c]).
     */
    default void conv1dStep(Tensor out, Tensor state, Tensor in, Tensor weight, Tensor bias, int batch) {
        throw unsupported("conv1dStep");
    }

    /**
     * Prefill of a fresh rolling window: state [batch, C, K−1] receives what seqLen conv1dSteps from zeros leave
     * there, the last K−1 inputs of in [batch·seqLen, C] per channel, oldest first, zeros before time 0:
     * state[b,c,j] = in[b, seqLen−K+1+j, c]. weight [C, K] gives the shape only.
     */
    default void conv1dFillState(Tensor state, Tensor in, Tensor weight, int batch, int seqLen) {
        throw unsupported("conv1dFillState");
    }

    // ---- selective scan (Mamba) --------------------------------------------------------------------

    /** Time steps between saved scan states: the backward keeps ceil(seqLen / this) states per channel. */
    default int scanChunkLength() {
        return 64;
    }

    /** Number of saved scan states per (sequence, channel) for seqLen steps. */
    default int scanChunks(int seqLen) {
        return (seqLen + scanChunkLength() - 1) / scanChunkLength();
    }

    /**
     * Selective scan, mamba_ssm's selective_scan_ref with real A, time-varying B and C and zero initial state.
     * Activations are channels last: u, delta, z, out [batch·seqLen, D]; B, C [batch·seqLen, N]; A [D, N];
     * dSkip, deltaBias [D]. dSkip, z and deltaBias may be null. Per sequence b, channel d, state n:
     * <pre>
     *   δ_t   = delta[t,d] + deltaBias[d], then softplus(δ_t) if softplus (torch: x for x > 20)
     *   h_t,n = exp(δ_t·A[d,n])·h_{t−1},n + δ_t·B[t,n]·u[t,d]          (h_{−1} = 0)
     *   y_t   = Σ_n C[t,n]·h_t,n + dSkip[d]·u[t,d]
     *   out   = y_t · silu(z[t,d])  (y_t without z)
     * </pre>
     * checkpoints [batch, scanChunks(seqLen), D, N] receives h_{k·chunk−1} (the state entering chunk k; zeros
     * for k = 0), all that scanBackward needs besides the inputs: O(seqLen/chunk · N) floats per channel.
     */
    default void scanForward(Tensor out, Tensor checkpoints, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c,
                     Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        throw unsupported("scanForward");
    }

    /**
     * Gradients of scanForward, accumulated into du, ddelta, da, db, dc, dDSkip, dz, dDeltaBias (each may be
     * null when not wanted; dDSkip/dz/dDeltaBias must be null when the forward had no dSkip/z/deltaBias). The
     * states are recomputed chunk by chunk from the checkpoints, newest chunk first, so nothing per time step
     * is kept beyond one chunk per worker.
     */
    default void scanBackward(Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc, Tensor dDSkip, Tensor dz,
                      Tensor dDeltaBias, Tensor dout, Tensor checkpoints, Tensor u, Tensor delta, Tensor a, Tensor b,
                      Tensor c, Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        throw unsupported("scanBackward");
    }

    /**
     * One decoding step of scanForward: state [batch, D, N] is h_{t−1} on entry and h_t on return; u, delta,
     * z, out [batch, D]; B, C [batch, N]; the other arguments as in scanForward.
     */
    default void scanStep(Tensor out, Tensor state, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor dSkip,
                  Tensor z, Tensor deltaBias, boolean softplus, int batch) {
        throw unsupported("scanStep");
    }

    /**
     * seqLen scanSteps at once (decoding's prefill): state [batch, D, N] is h_{−1} on entry (zeros for a fresh
     * sequence) and h_{seqLen−1} on return; u, delta, z, out [batch·seqLen, D]; B, C [batch·seqLen, N]; the other
     * arguments as in scanForward. Same arithmetic as scanStep, so prefill then steps equals stepping throughout.
     */
    default void scanPrefill(Tensor out, Tensor state, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c,
                             Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        throw unsupported("scanPrefill");
    }

    // ---- LSTM recurrence ---------------------------------------------------------------------------

    /**
     * The recurrent part of one torch.nn.LSTM layer (gate order i, f, g, o; zero initial h and c). xProj
     * [batch·seqLen, 4H] is the input projection x·W_ihᵀ + b_ih, computed beforehand by linearForward; whh
     * [4H, H], bhh [4H] (may be null). Per sequence and time step:
     * <pre>
     *   a = xProj_t + W_hh·h_{t−1} + b_hh;  i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
     *   c_t = f·c_{t−1} + i·g;  h_t = o·tanh(c_t)
     * </pre>
     * h and c [batch·seqLen, H] receive every h_t and c_t; gates [batch·seqLen, 4H] the activated i, f, g, o
     * (saved for backward).
     */
    default void lstmForward(Tensor h, Tensor c, Tensor gates, Tensor xProj, Tensor whh, Tensor bhh, int batch,
                     int seqLen) {
        throw unsupported("lstmForward");
    }

    /**
     * Backpropagation through time of lstmForward: given dh = ∂L/∂h_t for every t, accumulates dxProj
     * (the gradient of the gate pre-activations a, which is also ∂L/∂b_ih and feeds linearBackward for W_ih),
     * dwhh and dbhh (either may be null).
     */
    default void lstmBackward(Tensor dxProj, Tensor dwhh, Tensor dbhh, Tensor dh, Tensor h, Tensor c, Tensor gates,
                      Tensor whh, int batch, int seqLen) {
        throw unsupported("lstmBackward");
    }

    /**
     * One decoding step of lstmForward: h and c [batch, H] hold h_{t−1}, c_{t−1} on entry and h_t, c_t on
     * return; xProj [batch, 4H] is this token's x·W_ihᵀ + b_ih.
     */
    default void lstmStep(Tensor h, Tensor c, Tensor xProj, Tensor whh, Tensor bhh, int batch) {
        throw unsupported("lstmStep");
    }

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
