package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import parrot.backend.Backend;
import parrot.model.LanguageModel;
import parrot.model.Parameter;
import parrot.train.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Fills a model's parameters from a Hugging Face folder's safetensors: one model.safetensors, or the shards a
 * model.safetensors.index.json names ({"metadata": {...}, "weight_map": {tensor: file}}). Shards are opened one at
 * a time and each tensor is decoded in pieces of {@value #PIECE} elements straight into its parameter, through one
 * small array and the reader's buffer (positional reads, no memory map), so loading holds the float32 model plus a
 * few MB, whatever the size of a tensor or shard, and makes no garbage that waits for the collector: peak memory
 * does not depend on when it runs. Every parameter must come exactly once with its exact shape; the
 * known buffers that are not parameters are skipped by name; anything else is an error naming the tensor.
 */
public final class HfWeights {
    public static final String SINGLE = "model.safetensors", INDEX = "model.safetensors.index.json";

    /**
     * Buffers transformers saves that are not parameters: GPT-NeoX's causal mask (attention.bias, uint8),
     * attention.masked_bias and the rotary inv_freq, per layer or (newer versions) once for the model.
     */
    static final Pattern NON_PARAMETERS = Pattern.compile(
            "gpt_neox\\.(layers\\.\\d+\\.attention\\.(bias|masked_bias|rotary_emb\\.inv_freq)|rotary_emb\\.inv_freq)");
    /** A tied head that a file stores anyway (save_pretrained usually leaves it out). */
    static final String TIED_HEAD = "lm_head.weight";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Elements decoded per piece: 1 MiB of float32, the reader's buffer's size. */
    static final int PIECE = SafeTensors.BUFFER_BYTES / 4;

    private HfWeights() {
    }

    /** The shards in the order to read them, each with the tensor names the index puts there (null: all). */
    record Shard(Path file, Set<String> names) {
    }

    /** Where the folder's tensors are: one file, or the index's shards. */
    static List<Shard> layout(Path dir) {
        Path index = dir.resolve(INDEX), single = dir.resolve(SINGLE);
        if (Files.isRegularFile(index)) return shards(dir, index);
        if (Files.isRegularFile(single)) return List.of(new Shard(single, null));
        if (Files.isRegularFile(dir.resolve("pytorch_model.bin")) || Files.isRegularFile(dir.resolve("pytorch_model.bin.index.json")))
            throw new HfException(dir + ": holds pickled PyTorch weights (pytorch_model.bin) only; parrot reads safetensors "
                    + "(download model.safetensors, or convert with safetensors.torch.save_file)");
        throw new HfException(dir + ": no " + SINGLE + " or " + INDEX);
    }

    private static List<Shard> shards(Path dir, Path index) {
        JsonNode map;
        try {
            map = JSON.readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new HfException(index + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!map.isObject() || map.isEmpty()) throw new HfException(index + ": weight_map: required, an object {tensor: file}");
        Map<String, Set<String>> byFile = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            String file = e.getValue().asText("");
            // Shards sit beside the index: a path elsewhere would read files the folder does not hold.
            if (!e.getValue().isTextual() || file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith("."))
                throw new HfException(index + ": weight_map." + e.getKey() + ": must be a file name in the folder, got " + e.getValue());
            byFile.computeIfAbsent(file, k -> new LinkedHashSet<>()).add(e.getKey());
        }
        List<Shard> out = new ArrayList<>();
        for (var e : byFile.entrySet()) {
            Path f = dir.resolve(e.getKey());
            if (!Files.isRegularFile(f))
                throw new HfException(index + ": shard " + e.getKey() + " is missing (it holds " + e.getValue().size()
                        + " tensors, e.g. " + e.getValue().iterator().next() + ")");
            out.add(new Shard(f, e.getValue()));
        }
        return out;
    }

    /** Loads every parameter of {@code model} from {@code dir}. */
    public static void load(LanguageModel model, Path dir) {
        Backend be = model.backend();
        Map<String, Parameter> wanted = new LinkedHashMap<>();
        for (Parameter p : model.parameters().list()) wanted.put(p.name(), p);
        Set<String> loaded = new LinkedHashSet<>();
        // One piece array for the whole load. Decoding each tensor into a whole-tensor array (first a new one per
        // tensor, then one per tensor size) and memory-mapping the shard put the Mamba-130M shape's peak RSS at
        // 2.4-2.9x its float32 weights, and the garbage made it move with the collector's timing.
        float[] piece = null;
        for (Shard s : layout(dir)) {
            try (SafeTensors.Reader r = SafeTensors.open(s.file())) {
                if (s.names() != null) {
                    for (String n : s.names())
                        if (!r.has(n)) throw new HfException(s.file() + ": tensor " + n + " is missing (" + INDEX + " puts it in this shard)");
                }
                for (SafeTensors.TensorInfo t : r.tensors()) {
                    String name = t.name();
                    if (s.names() != null && !s.names().contains(name))
                        throw new HfException(s.file() + ": tensor " + name + " is not in " + INDEX + "'s weight_map for this shard");
                    if (NON_PARAMETERS.matcher(name).matches()) continue;
                    if (name.equals(TIED_HEAD) && model.tiedHead() && !wanted.containsKey(name)) continue;
                    Parameter p = wanted.get(name);
                    if (p == null)
                        throw new HfException(s.file() + ": unexpected tensor " + name + " (not a parameter of this "
                                + (model.tiedHead() ? "Mamba" : "GPT-NeoX") + " model)");
                    if (!loaded.add(name)) throw new HfException(s.file() + ": tensor " + name + " appears in two shards");
                    if (!t.dtype().decodable())
                        throw new HfException(s.file() + ": tensor " + name + " has dtype " + t.dtype()
                                + "; parameters must be F32, F16, BF16 or F64");
                    if (!Arrays.equals(t.shape(), Arrays.stream(p.shape()).asLongStream().toArray()))
                        throw new HfException(s.file() + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                                + ", config.json makes it " + Arrays.toString(p.shape()));
                    // The shape is the parameter's, so the element count fits the int of a tensor's length.
                    int n = p.value().length();
                    if (piece == null) piece = new float[PIECE];
                    for (long at = 0; at < n; at += PIECE) {          // long: at + PIECE may pass 2^31 - 1
                        int k = (int) Math.min(PIECE, n - at);
                        r.readFloats(name, at, piece, 0, k);
                        be.upload(p.value(), (int) at, piece, 0, k);
                    }
                }
            } catch (IOException e) {
                throw new HfException(e.getMessage(), e);
            }
        }
        for (String n : wanted.keySet())
            if (!loaded.contains(n)) throw new HfException(dir + ": missing tensor " + n);
    }
}
