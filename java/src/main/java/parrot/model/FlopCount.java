package parrot.model;

import parrot.backend.AttentionSpec;
import parrot.config.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The floating-point operations one training token costs a model, forward and backward, counted from its shapes
 * (the numerator of a model-FLOP utilisation). What is counted, per token (a fused multiply-add is 2, every add,
 * multiply and exp 1):
 * <ul>
 *   <li>every linear layer x[k]·Wᵀ → [n] (the LM head and LSTM input and recurrent gate products included):
 *       2·k·n forward, 4·k·n backward (input and weight gradients);</li>
 *   <li>attention, per head and attended (query, key) pair: QKᵀ and PV, 4·head_dim forward; dV, dP, dQ, dK,
 *       8·head_dim backward. Only the keys a query sees count (causal, Hard-ALiBi windows), averaged over the
 *       positions of a row of {@code context} tokens;</li>
 *   <li>Mamba's causal depthwise conv1d: 2·d_conv per channel forward, 4·d_conv backward;</li>
 *   <li>the selective scan, per channel and state: δ·A, exp, e·h + δu·B, y += C·h, 7 forward; the adjoint
 *       (Scan.adjoint in the CPU backend, operation by operation) 19 backward.</li>
 * </ul>
 * Not counted: norms, activations, softmax, biases, residual adds, the embedding, the loss and the optimizer
 * (each O(width) per token, a few percent at d_model 64), and the recomputation the backward does by design
 * (attention's scores, the scan's states from its chunk checkpoints): those are the implementation's, not the
 * model's. The same model therefore counts the same on every backend.
 */
public final class FlopCount {
    /** Scan operations per (token, channel, state): forward and the adjoint, as listed above. */
    static final int SCAN_FORWARD = 7, SCAN_BACKWARD = 19;

    /**
     * @param parts per part (e.g. "linear", "attention", "scan", "conv1d"), forward and backward FLOPs per token
     */
    public record Count(Map<String, double[]> parts) {
        public double forward() {
            return parts.values().stream().mapToDouble(p -> p[0]).sum();
        }

        public double backward() {
            return parts.values().stream().mapToDouble(p -> p[1]).sum();
        }

        public double perToken() {
            return forward() + backward();
        }

        /** The forward + backward FLOPs per token of each part, for printing and JSON. */
        public Map<String, Double> totals() {
            Map<String, Double> m = new LinkedHashMap<>();
            parts.forEach((k, v) -> m.put(k, v[0] + v[1]));
            return m;
        }
    }

    private final Map<String, double[]> parts = new LinkedHashMap<>();

    private FlopCount() {
    }

    /** FLOPs per training token of the model built from m with this vocabulary, on rows of context tokens. */
    public static Count of(ModelConfig m, int vocab, int context) {
        FlopCount f = new FlopCount();
        int c = m.dModel();
        switch (m.family()) {
            case "transformer" -> {
                for (int l = 0; l < m.nLayers(); l++) f.transformer(m, context);
                f.linear(c, vocab);
            }
            case "mamba", "hybrid" -> {
                for (String b : m.stack()) {
                    switch (b) {
                        case "mamba" -> f.mamba(m);
                        case "attn" -> f.transformer(m, context);
                        case "lstm" -> f.lstm(c, c);
                        default -> throw new IllegalArgumentException("blocks: unknown block type " + b);
                    }
                }
                f.linear(c, vocab);                           // the tied head is still a product
            }
            case "lstm" -> {
                int hid = m.lstmSize();
                for (int l = 0; l < m.nLayers(); l++) f.lstm(l == 0 ? c : hid, hid);
                f.linear(hid, vocab);
            }
            default -> throw new IllegalArgumentException("models.family: unknown '" + m.family() + "'");
        }
        return new Count(java.util.Collections.unmodifiableMap(f.parts));
    }

    private void add(String part, double fwd, double bwd) {
        double[] p = parts.computeIfAbsent(part, k -> new double[2]);
        p[0] += fwd;
        p[1] += bwd;
    }

    private void linear(int in, int out) {
        add("linear", 2.0 * in * out, 4.0 * in * out);
    }

    private void transformer(ModelConfig m, int context) {
        int c = m.dModel(), hidden = m.mlpSize();
        linear(c, 3 * c);
        linear(c, c);
        linear(c, hidden);
        linear(hidden, c);
        AttentionSpec spec = Positional.attention(m);
        double pairs = 0;                                     // attended (query, key) pairs per token, all heads
        for (int h = 0; h < spec.heads(); h++) pairs += attendedKeys(spec.window(h), context);
        add("attention", 4.0 * spec.headDim() * pairs, 8.0 * spec.headDim() * pairs);
    }

    /** Mean number of keys a query of a row of t tokens sees with window w (0: all earlier ones and itself). */
    static double attendedKeys(int w, int t) {
        long sum = 0;
        for (int q = 0; q < t; q++) sum += w > 0 ? Math.min(q + 1, w) : q + 1;
        return (double) sum / t;
    }

    private void mamba(ModelConfig m) {
        int c = m.dModel(), di = m.dInner(), n = m.dState(), r = m.resolvedDtRank(), k = m.dConv();
        linear(c, 2 * di);                                    // in_proj
        linear(di, r + 2 * n);                                // x_proj
        linear(r, di);                                        // dt_proj
        linear(di, c);                                        // out_proj
        add("conv1d", 2.0 * k * di, 4.0 * k * di);
        add("scan", (double) SCAN_FORWARD * di * n, (double) SCAN_BACKWARD * di * n);
    }

    private void lstm(int in, int hid) {
        linear(in, 4 * hid);                                  // x·W_ih for all four gates
        add("lstm_recurrent", 2.0 * hid * 4 * hid, 4.0 * hid * 4 * hid);   // h·W_hh, one step at a time
    }
}
