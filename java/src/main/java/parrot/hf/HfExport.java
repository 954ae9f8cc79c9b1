package parrot.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import parrot.backend.Backend;
import parrot.config.ModelConfig;
import parrot.model.LanguageModel;
import parrot.model.Parameter;
import parrot.train.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a parrot model as a Hugging Face folder that transformers loads unchanged: config.json and a float32
 * model.safetensors (metadata format "pt", which from_pretrained requires). A transformer with RoPE or NoPE becomes
 * GPTNeoXForCausalLM (NoPE as rotary_pct 0); a Mamba with RMSNorm becomes MambaForCausalLM (the tied head is not
 * stored, as save_pretrained leaves it out). Everything else has no transformers architecture and is refused.
 */
public final class HfExport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfExport() {
    }

    /** Why a model cannot be exported, or null when it can. */
    public static String refusal(ModelConfig m) {
        return switch (m.family()) {
            case "transformer" -> switch (m.positional()) {
                case "rope", "nope" -> null;
                default -> "positional " + m.positional() + ": transformers' GPTNeoXForCausalLM has rotary embeddings only "
                        + "(no ALiBi or Hard-ALiBi windows), and no Hugging Face architecture computes this model";
            };
            case "mamba" -> m.norm().equals("rmsnorm") ? null
                    : "norm " + m.norm() + ": transformers' MambaForCausalLM uses RMSNorm only";
            case "lstm" -> "family lstm: transformers has no LSTM language model";
            case "hybrid" -> "family hybrid: transformers has no architecture mixing Mamba, attention or LSTM blocks";
            default -> "family " + m.family() + ": no Hugging Face architecture";
        };
    }

    public static void write(LanguageModel model, ModelConfig m, Path out) {
        String why = refusal(m);
        if (why != null) throw new HfException("cannot export model " + m.name() + " to Hugging Face: " + why);
        ObjectNode cfg = m.family().equals("mamba") ? mamba(m, model.vocab()) : gptNeoX(m, model.vocab());
        Backend be = model.backend();
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
        for (Parameter p : model.parameters().list()) tensors.put(p.name(), new SafeTensors.Entry(p.shape(), be.toFloats(p.value())));
        try {
            Files.createDirectories(out);
            SafeTensors.write(out.resolve(HfWeights.SINGLE), tensors, Map.of("format", "pt"));
            Path tmp = Files.createTempFile(out, HfConfig.FILE, ".tmp");
            JSON.writeValue(tmp.toFile(), cfg);
            Files.move(tmp, out.resolve(HfConfig.FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new HfException("writing " + out + ": " + e.getMessage(), e);
        }
    }

    static ObjectNode gptNeoX(ModelConfig m, int vocab) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("GPTNeoXForCausalLM");
        c.put("model_type", "gpt_neox");
        c.put("hidden_size", m.dModel());
        c.put("num_attention_heads", m.nHeads());
        c.put("num_hidden_layers", m.nLayers());
        c.put("intermediate_size", m.mlpSize());
        int hd = m.headDim(), r = m.positional().equals("rope") ? m.rotaryDims() : 0;
        // transformers rotates int(head_dim · pct) dims; pick the pct whose product truncates to parrot's even count
        double pct = (double) r / hd;
        if ((int) (hd * pct) != r) pct = (r + 0.5) / hd;
        c.put("rotary_pct", pct);
        c.put("partial_rotary_factor", pct);           // the name newer transformers versions read
        c.put("rotary_emb_base", m.ropeBase());
        c.put("rope_theta", m.ropeBase());
        c.put("use_parallel_residual", true);
        c.put("hidden_act", "gelu");
        c.put("layer_norm_eps", m.layerNormEps());
        c.put("attention_bias", true);
        c.put("tie_word_embeddings", false);
        c.put("max_position_embeddings", 2048);
        c.put("vocab_size", vocab);
        c.put("torch_dtype", "float32");
        c.put("use_cache", true);
        return c;
    }

    static ObjectNode mamba(ModelConfig m, int vocab) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("MambaForCausalLM");
        c.put("model_type", "mamba");
        c.put("hidden_size", m.dModel());
        c.put("num_hidden_layers", m.nLayers());
        c.put("state_size", m.dState());
        c.put("expand", m.expand());
        c.put("intermediate_size", m.dInner());
        c.put("conv_kernel", m.dConv());
        c.put("time_step_rank", m.resolvedDtRank());
        c.put("use_bias", false);
        c.put("use_conv_bias", true);
        c.put("hidden_act", "silu");
        c.put("layer_norm_epsilon", m.layerNormEps());
        c.put("residual_in_fp32", true);
        c.put("tie_word_embeddings", true);
        c.put("vocab_size", vocab);
        c.put("torch_dtype", "float32");
        c.put("use_cache", true);
        return c;
    }
}
