package parrot.model;

import parrot.backend.Backend;
import parrot.config.ModelConfig;
import parrot.model.ParameterSet.Init;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds a model from its config, with parameter names that load into the PyTorch model of its family:
 * <ul>
 *   <li>transformer: HF GPTNeoXForCausalLM — gpt_neox.embed_in, gpt_neox.layers.N.*, gpt_neox.final_layer_norm,
 *       untied embed_out.</li>
 *   <li>mamba: HF MambaForCausalLM — backbone.embeddings.weight, backbone.layers.N.{norm,mixer}.*,
 *       backbone.norm_f; lm_head.weight is tied to the embedding and, as in HF's save_pretrained, not stored
 *       (load with tie_word_embeddings=True).</li>
 *   <li>lstm: the reference code's LSTM module (nn.Embedding + nn.LSTM + nn.Linear) — word_embeddings.weight,
 *       lstm.{weight_ih,weight_hh,bias_ih,bias_hh}_lN, head.weight, head.bias; no final norm.</li>
 *   <li>hybrid: the Mamba backbone (tied head, norm_f) whose layer N is a Mamba block
 *       (backbone.layers.N.{norm,mixer}.*), a GPT-NeoX layer (backbone.layers.N.{input_layernorm,attention,...}.*)
 *       or one LSTM layer (backbone.layers.N.lstm.*_l0).</li>
 * </ul>
 */
public final class ModelFactory {
    private ModelFactory() {
    }

    public static LanguageModel create(ModelConfig m, int vocab, Backend backend, long seed) {
        return create(new ParameterSet(backend, seed), m, vocab);
    }

    /** The same model with zero weights and no gradients, for a loader to fill (pretrained checkpoints). */
    public static LanguageModel createForInference(ModelConfig m, int vocab, Backend backend) {
        return create(new ParameterSet(backend, 0, true), m, vocab);
    }

    private static LanguageModel create(ParameterSet ps, ModelConfig m, int vocab) {
        return switch (m.family()) {
            case "transformer" -> gptNeoX(m, vocab, ps);
            case "mamba", "hybrid" -> backbone(m, vocab, ps);
            case "lstm" -> lstm(m, vocab, ps);
            default -> throw new IllegalArgumentException("models.family: unknown '" + m.family() + "'; allowed: "
                    + String.join(", ", ModelConfig.FAMILIES));
        };
    }

    /** GPT-NeoX (Pythia): gpt_neox.embed_in, gpt_neox.layers.N.*, gpt_neox.final_layer_norm, untied embed_out. */
    private static LanguageModel gptNeoX(ModelConfig m, int vocab, ParameterSet ps) {
        int c = m.dModel();
        Parameter embed = ps.add("gpt_neox.embed_in.weight", new Init.Normal(m.initStd()), true, vocab, c);
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < m.nLayers(); l++) blocks.add(new TransformerBlock(ps, "gpt_neox.layers." + l + ".", m));
        Parameter normW = ps.add("gpt_neox.final_layer_norm.weight", new Init.Constant(1), false, c);
        Parameter normB = ps.add("gpt_neox.final_layer_norm.bias", new Init.Constant(0), false, c);
        Parameter head = ps.add("embed_out.weight", new Init.Normal(m.initStd()), true, vocab, c);
        return new LanguageModel(ps, blocks, embed, normW, normB, head, c, vocab, m.layerNormEps());
    }

    /** Mamba (MambaLMHeadModel / HF MambaForCausalLM) and hybrid stacks on the same backbone. */
    private static LanguageModel backbone(ModelConfig m, int vocab, ParameterSet ps) {
        int c = m.dModel();
        Parameter embed = ps.add("backbone.embeddings.weight", new Init.Normal(m.initStd()), true, vocab, c);
        List<Block> blocks = new ArrayList<>();
        List<String> stack = m.stack();
        for (int l = 0; l < stack.size(); l++) {
            String prefix = "backbone.layers." + l + ".";
            blocks.add(switch (stack.get(l)) {
                case "mamba" -> new MambaBlock(ps, prefix, m);
                case "attn" -> new TransformerBlock(ps, prefix, m);
                case "lstm" -> new LstmBlock(ps, prefix + "lstm.", 0, c, c);
                default -> throw new IllegalArgumentException("blocks: unknown block type " + stack.get(l));
            });
        }
        Norm normF = Norm.create(ps, "backbone.norm_f.", m.norm(), c, m.layerNormEps());
        return new LanguageModel(ps, blocks, embed, normF, embed, null, c, vocab);
    }

    /** embedding → n_layers LSTM layers → linear head (with bias), as the reference code's LSTM. */
    private static LanguageModel lstm(ModelConfig m, int vocab, ParameterSet ps) {
        int c = m.dModel(), hid = m.lstmSize();
        Parameter embed = ps.add("word_embeddings.weight", new Init.Uniform(0.1), true, vocab, c);
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < m.nLayers(); l++) blocks.add(new LstmBlock(ps, "lstm.", l, l == 0 ? c : hid, hid));
        Parameter head = ps.add("head.weight", new Init.Uniform(1 / Math.sqrt(hid)), true, vocab, hid);
        Parameter headB = ps.add("head.bias", new Init.Constant(0), false, vocab);
        return new LanguageModel(ps, blocks, embed, null, head, headB, c, vocab);
    }
}
