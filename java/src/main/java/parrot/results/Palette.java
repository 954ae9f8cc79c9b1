package parrot.results;

import java.awt.Color;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One colour per model name across every figure of a plot run, so "mamba" is the same purple in the length,
 * examples, lookup and capacity figures. The paper's model names have fixed colours (the same in every plot
 * run); other names get the remaining colours in name order.
 */
final class Palette {
    private static final Map<String, Color> FIXED = new LinkedHashMap<>();
    static {
        FIXED.put("hard-alibi", new Color(31, 119, 180));  // blue
        FIXED.put("nope", new Color(255, 127, 14));        // orange
        FIXED.put("rope", new Color(44, 160, 44));         // green
        FIXED.put("alibi", new Color(214, 39, 40));        // red
        FIXED.put("mamba", new Color(148, 103, 189));      // purple
        FIXED.put("lstm", new Color(140, 86, 75));         // brown
        FIXED.put("hybrid", new Color(227, 119, 194));     // pink
    }
    /** For the family series of the capacity figure. */
    static final Map<String, Color> FAMILY = Map.of("mamba", FIXED.get("mamba"), "lstm", FIXED.get("lstm"),
            "hybrid", FIXED.get("hybrid"), "transformer", FIXED.get("hard-alibi"));
    private static final Color[] REST = {
            new Color(23, 190, 207), new Color(188, 189, 34), new Color(127, 127, 127), new Color(0, 0, 128),
            new Color(128, 0, 0), new Color(0, 128, 128), new Color(128, 128, 0), new Color(255, 0, 255),
            new Color(60, 60, 60), new Color(255, 187, 120), new Color(152, 223, 138), new Color(197, 176, 213)};

    private final Map<String, Color> colours = new LinkedHashMap<>(FIXED);

    Palette(List<String> models) {
        int i = 0;
        for (String m : new TreeSet<>(models)) {
            if (colours.containsKey(m)) continue;
            Color c = REST[i % REST.length];
            if (i >= REST.length) c = c.darker(); // more than 12 new names: darker repeats
            colours.put(m, c);
            i++;
        }
    }

    /** The paper's models in their fixed order (hard-alibi, nope, rope, alibi, mamba, lstm, hybrid), then the rest. */
    static int rank(String model) {
        int i = 0;
        for (String m : FIXED.keySet()) {
            if (m.equals(model)) return i;
            i++;
        }
        return i;
    }

    Color of(String model) {
        return colours.getOrDefault(model, Color.DARK_GRAY);
    }

    static Color translucent(Color c, int alpha) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
    }
}
