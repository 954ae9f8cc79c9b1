package parrot.config;

import java.util.List;

/**
 * One model of an experiment. GPT-NeoX (Pythia) shape; the defaults are a small transformer for the copy task.
 *
 * @param name             unique within the experiment; used in file names and override paths
 * @param family           one of {@link #FAMILIES}
 * @param positional       one of {@link #POSITIONALS}
 * @param hardAlibiHeads   hard-alibi only: heads 0..k-1 get windows 1..k; null = n_heads/2
 * @param windows          hard-alibi only: explicit per-head window (0 = unlimited); overrides hard_alibi_heads
 * @param rotaryPct        rope only: fraction of each head's dims rotated
 * @param intermediateSize MLP width; 0 = 4·d_model
 */
public record ModelConfig(String name, String family, int dModel, int nHeads, int nLayers, String positional,
                          Integer hardAlibiHeads, List<Integer> windows, double rotaryPct, double ropeBase,
                          int intermediateSize, double layerNormEps, double initStd) {
    public static final List<String> FAMILIES = List.of("transformer");
    public static final List<String> POSITIONALS = List.of("nope", "rope", "alibi", "hard-alibi");

    public ModelConfig {
        Check.name("name", name);
        if (name.chars().allMatch(Character::isDigit)) // models.3.x must mean the element at index 3
            throw new ConfigException("name", "must not be all digits, got '" + name + "'");
        Check.oneOf("family", family, FAMILIES);
        Check.atLeast("d_model", dModel, 1);
        Check.atLeast("n_heads", nHeads, 1);
        Check.atLeast("n_layers", nLayers, 1);
        if (dModel % nHeads != 0)
            throw new ConfigException("d_model", dModel + " is not divisible by n_heads " + nHeads);
        Check.oneOf("positional", positional, POSITIONALS);
        boolean hard = positional.equals("hard-alibi");
        // Silently ignoring a window on a rope model would train something other than what the config says.
        if (!hard && hardAlibiHeads != null)
            throw new ConfigException("hard_alibi_heads", "only used with positional hard-alibi, got positional " + positional);
        if (!hard && windows != null)
            throw new ConfigException("windows", "only used with positional hard-alibi, got positional " + positional);
        if (hardAlibiHeads != null && windows != null)
            throw new ConfigException("hard_alibi_heads", "give hard_alibi_heads or windows, not both");
        if (hardAlibiHeads != null) Check.between("hard_alibi_heads", hardAlibiHeads, 0, nHeads);
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
        if (positional.equals("rope") && rotaryDims(dModel / nHeads, rotaryPct) < 2)
            throw new ConfigException("rotary_pct", rotaryPct + " of head_dim " + dModel / nHeads
                    + " rotates fewer than 2 dims");
        Check.atLeast("intermediate_size", intermediateSize, 0);
        Check.positive("layer_norm_eps", layerNormEps);
        Check.positive("init_std", initStd);
    }

    public static ModelConfig defaults(String name) {
        return new ModelConfig(name, "transformer", 64, 8, 2, "hard-alibi", null, null, 0.25, 10000, 0, 1e-5, 0.02);
    }

    public int headDim() {
        return dModel / nHeads;
    }

    public int mlpSize() {
        return intermediateSize == 0 ? 4 * dModel : intermediateSize;
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
        if (!positional.equals("hard-alibi")) return w;
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
                layerNormEps, initStd);
    }
}
