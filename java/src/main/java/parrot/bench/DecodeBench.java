package parrot.bench;

import parrot.backend.Backend;
import parrot.config.ModelConfig;
import parrot.data.Rng;
import parrot.hf.HfExport;
import parrot.hf.HfModel;
import parrot.model.Decoder;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Greedy-decoding speed of pretrained-model shapes with random weights: Pythia-160M (GPT-NeoX 12 × 768, rotary
 * 0.25, vocab 50304) and Mamba-130M (24 × 768, state 16, vocab 50280). The model is written as a Hugging Face folder
 * first, so the same weights can be decoded by PyTorch (scripts/bench_decode.py) and loaded by a fresh process to
 * measure the loader's peak memory ({@link LoadProbe}).
 */
public final class DecodeBench {
    public static final List<String> SHAPES = List.of("pythia-160m", "mamba-130m");

    /**
     * @param prompting          "prefill" (the prompt at once, {@link Decoder#prefill}) or "stepwise" (one position at a
     *                           time with the LM head at every one: decoding before prefill and head skipping existed)
     * @param prefillTokensPerSecond prompt tokens (batch · prompt) per second of prefill
     */
    public record Result(String shape, long parameters, int batch, int prompt, int tokens, String prompting,
                         double prefillSeconds, double prefillTokensPerSecond, double decodeSeconds,
                         double tokensPerSecond, String backend) {
    }

    private DecodeBench() {
    }

    /** @param layers 0: the real depth; fewer for a quick run */
    public static ModelConfig shape(String name, int layers) {
        return switch (name) {
            case "pythia-160m" -> new ModelConfig(name, "transformer", 768, 12, layers > 0 ? layers : 12, "rope", null, null,
                    0.25, 10000, 3072, 1e-5, 0.02);
            case "mamba-130m" -> new ModelConfig(name, "mamba", 768, 1, layers > 0 ? layers : 24, null, null, null, 0.25,
                    10000, null, 1e-5, 0.02, 16, 4, 2, "48", "rmsnorm", null, null);
            default -> throw new IllegalArgumentException("--shape: '" + name + "' unknown; allowed: " + String.join(", ", SHAPES));
        };
    }

    public static int vocab(String name) {
        return name.startsWith("pythia") ? 50304 : 50280;
    }

    /** Random weights (seeded) written to dir as a Hugging Face folder. */
    public static void writeFolder(String name, int layers, Backend be, Path dir) {
        LanguageModel m = ModelFactory.create(shape(name, layers), vocab(name), be, 1);
        HfExport.write(m, shape(name, layers), dir);
        for (var p : m.parameters().list()) {
            be.release(p.value());
            be.release(p.grad());
        }
    }

    /** Loads dir and decodes prompt random tokens then tokens greedy ones, batch sequences at once. */
    public static Result run(Path dir, Backend be, int batch, int prompt, int tokens, boolean stepwise) {
        HfModel hf = HfModel.load(dir, be, null);
        LanguageModel m = hf.model();
        Rng rng = new Rng(7);
        int[][] prompts = new int[batch][prompt];
        for (int[] p : prompts) for (int i = 0; i < prompt; i++) p[i] = rng.nextInt(1000);
        decode(m, prompts, Math.min(4, tokens), stepwise);                  // warm-up (JIT)
        double[] t = decode(m, prompts, tokens, stepwise);
        hf.release();
        return new Result(hf.name(), hf.parameters(), batch, prompt, tokens, stepwise ? "stepwise" : "prefill", t[0],
                batch * prompt / t[0], t[1], batch * tokens / t[1], be.name());
    }

    private static double[] decode(LanguageModel m, int[][] prompts, int tokens, boolean stepwise) {
        Decoder d = m.decoder(prompts.length, prompts[0].length + tokens);
        try {
            long t0 = System.nanoTime();
            if (stepwise) {
                int[] col = new int[prompts.length];
                for (int t = 0; t < prompts[0].length; t++) {
                    for (int b = 0; b < prompts.length; b++) col[b] = prompts[b][t];
                    d.feed(col, true);
                }
            } else {
                d.feedPrompt(prompts);
            }
            long t1 = System.nanoTime();
            d.greedy(tokens);
            long t2 = System.nanoTime();
            return new double[]{(t1 - t0) / 1e9, (t2 - t1) / 1e9};
        } finally {
            d.release();
        }
    }

    /** Bytes of float32 weights in a folder's safetensors (what the loader must hold at least). */
    public static long weightBytes(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
