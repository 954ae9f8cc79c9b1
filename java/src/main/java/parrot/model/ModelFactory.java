package parrot.model;

import parrot.backend.Backend;
import parrot.config.ModelConfig;
import parrot.model.ParameterSet.Init;

import java.util.ArrayList;
import java.util.List;

/** Builds a model from its config, with Hugging Face parameter names for its family. */
public final class ModelFactory {
    private ModelFactory() {
    }

    public static LanguageModel create(ModelConfig m, int vocab, Backend backend, long seed) {
        ParameterSet ps = new ParameterSet(backend, seed);
        return switch (m.family()) {
            case "transformer" -> gptNeoX(m, vocab, ps);
            default -> throw new IllegalArgumentException("models.family: unknown '" + m.family() + "'; allowed: transformer");
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
}
