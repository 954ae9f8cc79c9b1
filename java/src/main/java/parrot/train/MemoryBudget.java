package parrot.train;

import parrot.config.ConfigException;
import parrot.config.ModelConfig;

import java.util.List;

/**
 * What a config will allocate, estimated from the config alone before anything is allocated, so that a batch
 * of 10^9 or a d_model of 10^5 is refused with the two numbers instead of ending in an OutOfMemoryError (or an
 * int overflow deep inside a kernel). The estimates count the big arrays only — parameters with their
 * gradients and AdamW moments, the activations backward keeps per token, the logits, the decoding caches — so
 * they are lower bounds: a config refused here could never run, and one accepted may still be tight.
 */
public final class MemoryBudget {
    /** Java arrays are int-indexed; one tensor is one array. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private MemoryBudget() {
    }

    /** The bytes the Java heap can still give. */
    public static long heapAvailable() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /** Parameter count and largest tensor, from the same shapes {@code ModelFactory} builds. */
    record Shapes(long parameters, long largest, String largestName) {
    }

    static Shapes shapes(ModelConfig m, int vocab) {
        long c = m.dModel(), total = 0, largest = 0;
        String largestName = "";
        List<long[]> t = new java.util.ArrayList<>();
        List<String> names = new java.util.ArrayList<>();
        java.util.function.BiConsumer<String, long[]> add = (name, dims) -> {
            names.add(name);
            t.add(dims);
        };
        boolean lstmFamily = m.family().equals("lstm");
        long hid = lstmFamily ? m.lstmSize() : c;
        add.accept("embedding (vocab x d_model)", new long[]{vocab, c});
        add.accept("head (vocab x hidden)", new long[]{vocab, hid});
        // One entry per block type, times its count: O(1) in the depth (n_layers may be absurd here).
        java.util.Map<String, Long> counts = new java.util.TreeMap<>();
        for (String b : m.stack()) counts.merge(b, 1L, Long::sum);
        List<Long> times = new java.util.ArrayList<>(java.util.Collections.nCopies(t.size(), 1L));
        for (var e : counts.entrySet()) {
            int before = t.size();
            switch (e.getKey()) {
                case "attn" -> {
                    long f = m.mlpSize();
                    add.accept("query_key_value (3·d_model x d_model)", new long[]{3 * c, c});
                    add.accept("attention.dense", new long[]{c, c});
                    add.accept("mlp (intermediate_size x d_model)", new long[]{f, c});
                    add.accept("mlp (intermediate_size x d_model)", new long[]{c, f});
                    add.accept("biases and norms", new long[]{8 * c + f});
                }
                case "mamba" -> {
                    long di = (long) m.expand() * c, n = m.dState(), r = m.resolvedDtRank();
                    add.accept("in_proj (2·d_inner x d_model)", new long[]{2 * di, c});
                    add.accept("conv1d", new long[]{di, m.dConv() + 1L});
                    add.accept("x_proj", new long[]{r + 2 * n, di});
                    add.accept("dt_proj", new long[]{di, r + 1});
                    add.accept("A_log (d_inner x d_state)", new long[]{di, n + 1});
                    add.accept("out_proj", new long[]{c, di});
                }
                case "lstm" -> add.accept("lstm weights (4·hidden x input+hidden)", new long[]{4 * hid, 2 * Math.max(c, hid) + 2});
                default -> {
                }
            }
            for (int i = before; i < t.size(); i++) times.add(e.getValue());
        }
        for (int i = 0; i < t.size(); i++) {
            long n = 1;
            for (long d : t.get(i)) n = saturatingMultiply(n, d);
            total = saturatingAdd(total, saturatingMultiply(n, times.get(i)));
            if (n > largest) {
                largest = n;
                largestName = names.get(i);
            }
        }
        return new Shapes(total, largest, largestName);
    }

    /**
     * Refuses a model whose tensors cannot be arrays or whose weights alone do not fit: before a checkpoint's
     * model is built to be loaded into.
     */
    public static void checkModel(String what, ModelConfig m, int vocab, int bytesPerValue) {
        Shapes s = shapes(m, vocab);
        tensorFits(what, s);
        long need = saturatingMultiply(s.parameters(), bytesPerValue);
        long have = heapAvailable();
        if (need > have)
            throw new ConfigException(what + ": the weights alone need about " + size(need) + " (" + s.parameters()
                    + " parameters), the Java heap has " + size(have) + " free; give Java more memory (java -Xmx...)");
    }

    /**
     * Training: weights, gradients and the two AdamW moments (4 values per parameter; on a GPU those live on the
     * device and the host holds the checkpoint copies, 3 per parameter), and, on the CPU, the activations kept
     * for backward and the logits, per token of batch_size x context.
     */
    public static void checkTraining(String what, ModelConfig m, int vocab, int batch, int context, int bytesPerValue,
                                     boolean activationsOnHost) {
        Shapes s = shapes(m, vocab);
        tensorFits(what, s);
        long tokens = saturatingMultiply(batch, context + 1L);
        if (tokens > MAX_ELEMENTS)
            throw new ConfigException(what + ": train.batch_size x train.context = " + tokens
                    + " tokens per step, more than one array holds (" + MAX_ELEMENTS + ")");
        long logits = saturatingMultiply(tokens, vocab);
        if (logits > MAX_ELEMENTS)
            throw new ConfigException(what + ": the logits of one step (" + tokens + " tokens x " + vocab
                    + " tokens of vocabulary = " + logits + " values) exceed one array (" + MAX_ELEMENTS + "); lower train.batch_size or train.context");
        long weights = weightBytes(s, bytesPerValue, activationsOnHost);
        long acts = activationBytes(m, vocab, batch, context, bytesPerValue, activationsOnHost);
        long need = saturatingAdd(weights, acts), have = heapAvailable();
        if (need > have)
            throw new ConfigException(what + ": training needs about " + size(need) + " (" + s.parameters()
                    + " parameters with gradients and AdamW moments: " + size(weights)
                    + (activationsOnHost ? "; activations and logits of batch " + batch + " x context " + context + ": " + size(acts) : "")
                    + "), the Java heap has " + size(have) + " free; lower train.batch_size, train.context or the model size, "
                    + "or give Java more memory (java -Xmx...)");
    }

    /** What {@link #checkTraining} estimates one model's training holds in the Java heap, in bytes. */
    public static long trainingBytes(ModelConfig m, int vocab, int batch, int context, int bytesPerValue,
                                     boolean activationsOnHost) {
        return saturatingAdd(weightBytes(shapes(m, vocab), bytesPerValue, activationsOnHost),
                activationBytes(m, vocab, batch, context, bytesPerValue, activationsOnHost));
    }

    private static long weightBytes(Shapes s, int bytesPerValue, boolean activationsOnHost) {
        return saturatingMultiply(s.parameters(), (activationsOnHost ? 4L : 3L) * bytesPerValue);
    }

    private static long activationBytes(ModelConfig m, int vocab, int batch, int context, int bytesPerValue,
                                        boolean activationsOnHost) {
        if (!activationsOnHost) return 0;
        long tokens = saturatingMultiply(batch, context + 1L), logits = saturatingMultiply(tokens, vocab);
        return saturatingMultiply(saturatingAdd(saturatingMultiply(tokens, perToken(m)), saturatingMultiply(2, logits)),
                bytesPerValue);
    }

    /**
     * Evaluation by greedy decoding: per string of the batch, the prompt and answer tokens, the logits, and the
     * KV cache of each attention layer over the longest example.
     */
    public static void checkEval(String what, ModelConfig m, int vocab, int batch, long maxTokens, int bytesPerValue) {
        long attn = m.stack().stream().filter("attn"::equals).count();
        long perString = saturatingAdd(saturatingMultiply(maxTokens, saturatingAdd(2 + vocab, 2L * attn * m.dModel())), 0);
        long need = saturatingMultiply(saturatingMultiply(batch, perString), bytesPerValue), have = heapAvailable();
        if (maxTokens > MAX_ELEMENTS || need > have)
            throw new ConfigException(what + ": evaluating " + batch + " strings of up to " + maxTokens
                    + " tokens at once needs about " + size(need) + ", the Java heap has " + size(have)
                    + " free; lower the lengths or the batch size, or give Java more memory (java -Xmx...)");
    }

    private static void tensorFits(String what, Shapes s) {
        if (s.largest() > MAX_ELEMENTS)
            throw new ConfigException(what + ": the " + s.largestName() + " tensor would have " + s.largest()
                    + " elements, more than one array holds (" + MAX_ELEMENTS + "); make the model smaller");
    }

    /** Values backward keeps per token: a rough, low count per block type. */
    private static long perToken(ModelConfig m) {
        long c = m.dModel(), sum = 4 * c;
        for (String b : m.stack())
            sum = saturatingAdd(sum, switch (b) {
                case "attn" -> 10 * c + 2L * m.mlpSize();
                case "mamba" -> 8L * m.expand() * c + (long) m.expand() * c * m.dState() / 64;
                case "lstm" -> 6L * m.lstmSize();
                default -> 0;
            });
        return sum;
    }

    static long saturatingMultiply(long a, long b) {
        long r = a * b;
        if (a != 0 && (r / a != b || (a == -1 && b == Long.MIN_VALUE))) return Long.MAX_VALUE;
        return Math.max(r, 0);
    }

    static long saturatingAdd(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    static String size(long bytes) {
        if (bytes == Long.MAX_VALUE) return "more than 8 EiB";
        double g = bytes / (double) (1L << 30);
        return g >= 1 ? String.format("%.1f GiB", g) : String.format("%.0f MiB", bytes / (double) (1L << 20));
    }
}
