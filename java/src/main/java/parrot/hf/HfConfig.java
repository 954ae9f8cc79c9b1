package parrot.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import parrot.config.ConfigException;
import parrot.config.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face config.json of GPTNeoXForCausalLM (Pythia) or MambaForCausalLM (state-spaces/mamba-*-hf), mapped
 * onto parrot's own {@link ModelConfig}, so the loaded model is parrot's GPT-NeoX or Mamba stack and runs on any
 * backend with the usual decoder. Every field that changes the forward pass is either honoured or refused by
 * name; fields that only matter for training (dropout, initialisation) or for other implementations (use_cache,
 * residual_in_fp32 — parrot computes in float32 throughout) are accepted.
 *
 * @param family       "gpt_neox" or "mamba"
 * @param model        parrot's config of the same network
 * @param vocabSize    rows of the embedding (Pythia pads it past the tokenizer's size)
 * @param tiedHead     the LM head is the embedding (Mamba: always; GPT-NeoX: refused, no such checkpoint exists)
 * @param maxPositions GPT-NeoX's max_position_embeddings (the longest context it was trained on), 0 for Mamba
 * @param eosTokenId   eos_token_id, or -1 when the file has none
 */
public record HfConfig(String family, ModelConfig model, int vocabSize, boolean tiedHead, int maxPositions,
                       int eosTokenId) {
    public static final String FILE = "config.json";
    public static final List<String> FAMILIES = List.of("gpt_neox", "mamba");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads DIR/config.json; a field parrot cannot honour is one line naming the file and the field. */
    public static HfConfig read(Path dir, String name) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file))
            throw new HfException(dir + ": no " + FILE + " (a Hugging Face model folder has config.json beside "
                    + "model.safetensors or model.safetensors.index.json)");
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new HfException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (n == null || !n.isObject()) throw new HfException(file + ": not a JSON object");
        try {
            return parse(n, name);
        } catch (ConfigException e) {
            throw new HfException(file + ": " + e.getMessage());
        }
    }

    /** The mapping itself; errors are {@link ConfigException}s naming config.json's field. */
    public static HfConfig parse(JsonNode n, String name) {
        String type = n.path("model_type").asText("");
        if (type.isEmpty()) {
            String arch = n.path("architectures").path(0).asText("");
            type = switch (arch) {
                case "GPTNeoXForCausalLM" -> "gpt_neox";
                case "MambaForCausalLM" -> "mamba";
                default -> "";
            };
        }
        if (type.isEmpty() && n.has("d_model") && n.has("ssm_cfg"))
            throw new ConfigException("model_type", "this is an original state-spaces/mamba config (d_model, ssm_cfg) "
                    + "with pickled weights; use the transformers-format repository of the same model "
                    + "(state-spaces/mamba-*-hf: config.json with model_type mamba and safetensors)");
        return switch (type) {
            case "gpt_neox" -> gptNeoX(new Fields(n), name);
            case "mamba" -> mamba(new Fields(n), name);
            default -> throw new ConfigException("model_type", "'" + type + "' is not supported; allowed: gpt_neox "
                    + "(GPTNeoXForCausalLM, Pythia), mamba (MambaForCausalLM)");
        };
    }

    private static HfConfig gptNeoX(Fields f, String name) {
        int hidden = f.positiveInt("hidden_size", null);
        int heads = f.positiveInt("num_attention_heads", null);
        int layers = f.positiveInt("num_hidden_layers", null);
        int inter = f.positiveInt("intermediate_size", null);
        int vocab = f.positiveInt("vocab_size", null);
        if (hidden % heads != 0)
            throw new ConfigException("hidden_size", hidden + " is not divisible by num_attention_heads " + heads);
        double pct = f.number("partial_rotary_factor", f.number("rotary_pct", 0.25));
        String pctField = f.has("partial_rotary_factor") ? "partial_rotary_factor" : "rotary_pct";
        if (!(pct >= 0 && pct <= 1)) throw new ConfigException(pctField, "must be in [0, 1], got " + pct);
        double base = f.number("rope_theta", f.number("rotary_emb_base", 10000));
        if (!(base > 0)) throw new ConfigException(f.has("rope_theta") ? "rope_theta" : "rotary_emb_base",
                "must be > 0, got " + base);
        f.requireBool("use_parallel_residual", true, "parrot's GPT-NeoX layer is x + attn(ln1 x) + mlp(ln2 x) only");
        f.requireBool("attention_bias", true, "parrot's attention projections have biases");
        f.requireString("hidden_act", "gelu", "parrot has the exact (erf) GELU only");
        if (f.has("rope_scaling") && !f.node("rope_scaling").isNull())
            throw new ConfigException("rope_scaling", "rotary scaling is not supported (must be null or absent)");
        boolean tied = f.bool("tie_word_embeddings", false);
        if (tied) throw new ConfigException("tie_word_embeddings", "true is not supported for GPT-NeoX (parrot's GPT-NeoX "
                + "has its own embed_out, as every Pythia checkpoint does)");
        double eps = f.number("layer_norm_eps", 1e-5);
        int headDim = hidden / heads, rot = ((int) (headDim * pct)) & ~1;
        // A rotation of fewer than 2 dims rotates nothing: the same network as no positional encoding.
        String positional = rot >= 2 ? "rope" : "nope";
        ModelConfig mc = new ModelConfig(name, "transformer", hidden, heads, layers, positional, null, null,
                rot >= 2 ? pct : 0.25, base, inter, eps, 0.02);
        return new HfConfig("gpt_neox", mc, vocab, false, f.intOr("max_position_embeddings", 0), f.intOr("eos_token_id", -1));
    }

    private static HfConfig mamba(Fields f, String name) {
        int hidden = f.positiveInt("hidden_size", null);
        int layers = f.positiveInt("num_hidden_layers", null);
        int vocab = f.positiveInt("vocab_size", null);
        int state = f.positiveInt("state_size", 16);
        int expand = f.positiveInt("expand", 2);
        int conv = f.positiveInt("conv_kernel", 4);
        int inter = f.positiveInt("intermediate_size", expand * hidden);
        if (inter != expand * hidden)
            throw new ConfigException("intermediate_size", inter + " must be expand × hidden_size = " + expand * hidden);
        String rank;
        JsonNode r = f.node("time_step_rank");
        if (r == null || r.isNull() || (r.isTextual() && r.asText().equals("auto"))) rank = "auto";
        else if (r.isIntegralNumber() && r.asInt() >= 1) rank = Integer.toString(r.asInt());
        else throw new ConfigException("time_step_rank", "must be \"auto\" or a positive integer, got " + r);
        f.requireBool("use_bias", false, "parrot's Mamba in_proj and out_proj have no biases");
        f.requireBool("use_conv_bias", true, "parrot's Mamba conv1d has a bias");
        f.requireString("hidden_act", "silu", "parrot's Mamba gate and conv activation are SiLU");
        boolean tied = f.bool("tie_word_embeddings", true);
        if (!tied) throw new ConfigException("tie_word_embeddings", "false is not supported for Mamba (parrot's Mamba LM "
                + "head is the embedding, as in every state-spaces checkpoint)");
        double eps = f.number("layer_norm_epsilon", 1e-5);
        ModelConfig mc = new ModelConfig(name, "mamba", hidden, 1, layers, null, null, null, 0.25, 10000, null, eps, 0.02,
                state, conv, expand, rank, "rmsnorm", null, null);
        return new HfConfig("mamba", mc, vocab, true, 0, f.intOr("eos_token_id", -1));
    }

    /** config.json's fields, with errors naming them. */
    private record Fields(JsonNode n) {
        boolean has(String k) {
            return n.has(k) && !n.get(k).isNull();
        }

        JsonNode node(String k) {
            return n.get(k);
        }

        int positiveInt(String k, Integer dflt) {
            if (!has(k)) {
                if (dflt == null) throw new ConfigException(k, "required");
                return dflt;
            }
            JsonNode v = n.get(k);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1)
                throw new ConfigException(k, "must be a positive integer, got " + v);
            return v.asInt();
        }

        int intOr(String k, int dflt) {
            JsonNode v = n.get(k);
            if (v == null || v.isNull()) return dflt;
            if (v.isArray()) v = v.path(0);     // some configs list several eos ids; the first ends generation
            return v.isIntegralNumber() ? v.asInt() : dflt;
        }

        double number(String k, double dflt) {
            if (!has(k)) return dflt;
            JsonNode v = n.get(k);
            if (!v.isNumber()) throw new ConfigException(k, "must be a number, got " + v);
            return v.asDouble();
        }

        boolean bool(String k, boolean dflt) {
            if (!has(k)) return dflt;
            JsonNode v = n.get(k);
            if (!v.isBoolean()) throw new ConfigException(k, "must be true or false, got " + v);
            return v.asBoolean();
        }

        void requireBool(String k, boolean needed, String why) {
            if (bool(k, needed) != needed) throw new ConfigException(k, !needed + " is not supported (" + why + ")");
        }

        void requireString(String k, String needed, String why) {
            if (!has(k)) return;
            String v = n.get(k).asText();
            if (!v.equals(needed)) throw new ConfigException(k, "'" + v + "' is not supported; allowed: " + needed + " (" + why + ")");
        }
    }
}
