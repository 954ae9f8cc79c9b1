package parrot.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One model of an experiment: a stack of blocks between a token embedding and an LM head. The defaults are a
 * small GPT-NeoX (Pythia) transformer for the copy task.
 *
 * <p>Families: {@code transformer} = n_layers GPT-NeoX layers ({@code attn}); {@code mamba} = n_layers Mamba
 * blocks (pre-norm residual, final norm, head tied to the embedding); {@code lstm} = n_layers torch.nn.LSTM
 * layers between an embedding and a linear head; {@code hybrid} = the Mamba backbone with the block types
 * given by {@code blocks}, e.g. {@code "mamba,mamba,attn,mamba"} or {@code "mamba*3,attn"}.
 *
 * @param name             unique within the experiment; used in file names and override paths
 * @param family           one of {@link #FAMILIES}
 * @param nLayers          depth; with family hybrid 0 (the default) means the length of {@code blocks}
 * @param positional       attention blocks only, and required there: one of {@link #POSITIONALS} (parrot does
 *                         not guess a scheme); null for stacks without attention
 * @param hardAlibiHeads   hard-alibi only: heads 0..k-1 get windows 1..k; absent = n_heads/2, stored resolved
 * @param windows          hard-alibi only: explicit per-head window (0 = unlimited); overrides hard_alibi_heads
 * @param rotaryPct        rope only: fraction of each head's dims rotated
 * @param intermediateSize attention blocks only: MLP width &gt;= 1; absent = 4·d_model, stored resolved
 * @param dState           Mamba: SSM state size N per channel
 * @param dConv            Mamba: causal conv1d kernel width
 * @param expand           Mamba: d_inner = expand·d_model
 * @param dtRank           Mamba: "auto" (= ceil(d_model/16)) or a positive integer
 * @param norm             Mamba/hybrid: the blocks' and the final norm, one of {@link #NORMS}
 * @param blocks           hybrid only: the block pattern (types {@link #BLOCK_TYPES}, {@code type*count}, commas)
 * @param lstmHidden       lstm blocks only: hidden size &gt;= 1; absent = d_model, stored resolved (a hybrid's
 *                         lstm blocks must keep d_model)
 */
public record ModelConfig(String name, String family, int dModel, int nHeads, int nLayers, String positional,
                          Integer hardAlibiHeads, List<Integer> windows, double rotaryPct, double ropeBase,
                          Integer intermediateSize, double layerNormEps, double initStd, int dState, int dConv,
                          int expand, @JsonDeserialize(using = IntOrAuto.class) String dtRank, String norm,
                          String blocks, Integer lstmHidden) {
    public static final List<String> FAMILIES = List.of("transformer", "mamba", "lstm", "hybrid");
    public static final List<String> POSITIONALS = List.of("nope", "rope", "alibi", "hard-alibi");
    public static final List<String> NORMS = List.of("layernorm", "rmsnorm");
    public static final List<String> BLOCK_TYPES = List.of("mamba", "attn", "lstm");
    /** Deeper stacks are refused before any list of blocks is built (the memory estimate refuses far less). */
    public static final int MAX_LAYERS = 100_000;

    public ModelConfig {
        Check.name("name", name);
        if (name.chars().allMatch(Character::isDigit)) // models.3.x must mean the element at index 3
            throw new ConfigException("name", "must not be all digits, got '" + name + "'");
        Check.oneOf("family", family, FAMILIES);
        Check.atLeast("d_model", dModel, 1);
        List<String> stack = stackOf(family, blocks, nLayers);
        if (family.equals("hybrid") && nLayers == 0) nLayers = stack.size();
        boolean attn = stack.contains("attn"), mamba = stack.contains("mamba"), lstm = stack.contains("lstm");
        Check.atLeast("n_heads", nHeads, 1);
        if (attn && dModel % nHeads != 0)
            throw new ConfigException("d_model", dModel + " is not divisible by n_heads " + nHeads);
        // Every field is stored as resolved here: absent means the default, which is written out, never a 0.
        if (attn) {
            if (positional == null)
                throw new ConfigException("positional", "required for a model with attention blocks (parrot does not pick "
                        + "a scheme for you); allowed: " + String.join(", ", POSITIONALS));
            Check.oneOf("positional", positional, POSITIONALS);
        } else if (positional != null) {
            throw new ConfigException("positional", "only used with attention blocks; family " + family + " has none (leave it out)");
        }
        if (!attn && hardAlibiHeads != null)
            throw new ConfigException("hard_alibi_heads", "only used with attention blocks; family " + family + " has none");
        if (!attn && windows != null)
            throw new ConfigException("windows", "only used with attention blocks; family " + family + " has none");
        boolean hard = "hard-alibi".equals(positional);
        // Silently ignoring a window on a rope model would train something other than what the config says.
        if (!hard && hardAlibiHeads != null)
            throw new ConfigException("hard_alibi_heads", "only used with positional hard-alibi, got positional " + positional);
        if (!hard && windows != null)
            throw new ConfigException("windows", "only used with positional hard-alibi, got positional " + positional);
        if (hardAlibiHeads != null && windows != null)
            throw new ConfigException("hard_alibi_heads", "give hard_alibi_heads or windows, not both");
        if (hardAlibiHeads != null) Check.between("hard_alibi_heads", hardAlibiHeads, 0, nHeads);
        if (hard && windows == null && hardAlibiHeads == null) hardAlibiHeads = nHeads / 2;
        if (windows != null) {
            if (windows.size() != nHeads)
                throw new ConfigException("windows", "must have one entry per head (" + nHeads + "), got " + windows.size());
            for (int h = 0; h < nHeads; h++) {
                Integer w = windows.get(h);
                if (w == null) throw new ConfigException("windows[" + h + "]", "must be an integer, got null");
                Check.atLeast("windows[" + h + "]", w, 0);
            }
            windows = List.copyOf(windows);
        }
        Check.inInterval("rotary_pct", rotaryPct, 0, 1, true, false);
        Check.positive("rope_base", ropeBase);
        if (attn && "rope".equals(positional) && rotaryDims(dModel / nHeads, rotaryPct) < 2)
            throw new ConfigException("rotary_pct", rotaryPct + " of head_dim " + dModel / nHeads
                    + " rotates fewer than 2 dims");
        if (attn) {
            if (intermediateSize == null) intermediateSize = 4 * dModel;
            Check.atLeast("intermediate_size", intermediateSize, 1);
        } else if (intermediateSize != null) {
            throw new ConfigException("intermediate_size", "only used with attention blocks; family " + family + " has none");
        }
        Check.positive("layer_norm_eps", layerNormEps);
        Check.positive("init_std", initStd);
        Check.atLeast("d_state", dState, 1);
        Check.atLeast("d_conv", dConv, 1);
        Check.atLeast("expand", expand, 1);
        Check.required("dt_rank", dtRank);
        if (!dtRank.equals("auto")) {
            int r;
            try {
                r = Integer.parseInt(dtRank.strip());
            } catch (NumberFormatException e) {
                throw new ConfigException("dt_rank", "must be \"auto\" or a positive integer, got '" + dtRank + "'");
            }
            Check.atLeast("dt_rank", r, 1);
            dtRank = Integer.toString(r);
        }
        Check.oneOf("norm", norm, NORMS);
        if (norm.equals("rmsnorm") && !mamba)
            throw new ConfigException("norm", "rmsnorm is for Mamba blocks and the Mamba/hybrid final norm; family "
                    + family + (family.equals("lstm") ? " has no norms" : " uses GPT-NeoX's layernorm"));
        if (lstm) {
            if (lstmHidden == null) lstmHidden = dModel;
            Check.atLeast("lstm_hidden", lstmHidden, 1);
            if (family.equals("hybrid") && lstmHidden != dModel)
                throw new ConfigException("lstm_hidden", "an lstm block of a hybrid stack keeps the stream width: leave it out or "
                        + "set it to d_model " + dModel + ", got " + lstmHidden);
        } else if (lstmHidden != null) {
            throw new ConfigException("lstm_hidden", "only used with lstm blocks; family " + family + " has none");
        }
    }

    /** The 13 transformer fields; the Mamba/LSTM fields take their defaults. */
    public ModelConfig(String name, String family, int dModel, int nHeads, int nLayers, String positional,
                       Integer hardAlibiHeads, List<Integer> windows, double rotaryPct, double ropeBase,
                       Integer intermediateSize, double layerNormEps, double initStd) {
        this(name, family, dModel, nHeads, nLayers, positional, hardAlibiHeads, windows, rotaryPct, ropeBase,
                intermediateSize, layerNormEps, initStd, 16, 4, 2, "auto", "layernorm", null, null);
    }

    public static ModelConfig defaults(String name) {
        return new ModelConfig(name, "transformer", 64, 8, 2, "hard-alibi", null, null, 0.25, 10000, null, 1e-5, 0.02);
    }

    /** The block types of the stack, bottom first: one of {@link #BLOCK_TYPES} each. */
    public List<String> stack() {
        return stackOf(family, blocks, nLayers);
    }

    private static List<String> stackOf(String family, String blocks, int nLayers) {
        if (!family.equals("hybrid")) {
            if (blocks != null)
                throw new ConfigException("blocks", "only used with family hybrid; family " + family + " stacks n_layers "
                        + switch (family) {
                    case "transformer" -> "attn";
                    default -> family;
                } + " blocks");
            Check.between("n_layers", nLayers, 1, MAX_LAYERS);
            return Collections.nCopies(nLayers, family.equals("transformer") ? "attn" : family);
        }
        if (blocks == null || blocks.isBlank())
            throw new ConfigException("blocks", "required with family hybrid, e.g. \"mamba,mamba,attn,mamba\" or \"mamba*3,attn\"");
        List<String> out = new ArrayList<>();
        for (String item : blocks.split(",", -1)) {
            String it = item.strip();
            String type = it;
            int count = 1;
            int star = it.indexOf('*');
            if (star >= 0) {
                type = it.substring(0, star).strip();
                try {
                    count = Integer.parseInt(it.substring(star + 1).strip());
                } catch (NumberFormatException e) {
                    throw new ConfigException("blocks", "bad repeat in '" + it + "' of \"" + blocks + "\"; write type*count, e.g. mamba*4");
                }
                if (count < 1) throw new ConfigException("blocks", "repeat count must be >= 1 in '" + it + "' of \"" + blocks + "\"");
            }
            if (!BLOCK_TYPES.contains(type))
                throw new ConfigException("blocks", "unknown block type '" + type + "' in \"" + blocks + "\"; allowed: "
                        + String.join(", ", BLOCK_TYPES));
            if (count > MAX_LAYERS - out.size())
                throw new ConfigException("blocks", "at most " + MAX_LAYERS + " blocks, got more in \"" + blocks + "\"");
            for (int i = 0; i < count; i++) out.add(type);
        }
        if (nLayers != 0 && nLayers != out.size())
            throw new ConfigException("n_layers", "family hybrid takes its depth from blocks (" + out.size()
                    + " blocks in \"" + blocks + "\"); leave n_layers out or set it to " + out.size() + ", got " + nLayers);
        return List.copyOf(out);
    }

    /** Mamba's inner width, expand·d_model. */
    public int dInner() {
        return expand * dModel;
    }

    /** Mamba's dt_rank: ceil(d_model/16) for "auto". */
    public int resolvedDtRank() {
        return dtRank.equals("auto") ? (dModel + 15) / 16 : Integer.parseInt(dtRank);
    }

    /** LSTM hidden size. */
    public int lstmSize() {
        return lstmHidden == null ? dModel : lstmHidden;
    }

    /** Reads dt_rank as "auto", a JSON integer or an integer string, keeping it as text. */
    static final class IntOrAuto extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) return Integer.toString(p.getIntValue());
            if (p.currentToken() == JsonToken.VALUE_STRING) return p.getText();
            // no field name here: the loader prefixes the path Jackson tracked (models[0].dt_rank)
            throw new ConfigException("must be \"auto\" or a positive integer, got " + p.getText());
        }
    }

    public int headDim() {
        return dModel / nHeads;
    }

    public int mlpSize() {
        return intermediateSize == null ? 4 * dModel : intermediateSize;
    }

    /** Rotated dims per head, GPT-NeoX's int(head_dim · rotary_pct) rounded down to even (pairs rotate). */
    public int rotaryDims() {
        return rotaryDims(headDim(), rotaryPct);
    }

    private static int rotaryDims(int headDim, double pct) {
        return ((int) (headDim * pct)) & ~1;
    }

    /**
     * Per head: 0 = sees every earlier key, w > 0 = sees only the last w keys (itself included). Hard-ALiBi's
     * default gives head h < k the window h+1, i.e. keys q-h..q; other positional schemes have no windows.
     */
    public int[] resolvedWindows() {
        int[] w = new int[nHeads];
        if (!"hard-alibi".equals(positional)) return w;
        if (windows != null) {
            for (int h = 0; h < nHeads; h++) w[h] = windows.get(h);
            return w;
        }
        int k = hardAlibiHeads != null ? hardAlibiHeads : nHeads / 2;
        for (int h = 0; h < k; h++) w[h] = h + 1;
        return w;
    }

    public ModelConfig withName(String newName) {
        return new ModelConfig(newName, family, dModel, nHeads, nLayers, positional, hardAlibiHeads,
                windows, rotaryPct, ropeBase, intermediateSize,
                layerNormEps, initStd, dState, dConv, expand, dtRank, norm, blocks, lstmHidden);
    }
}
