package parrot.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * Command-line {@code key=value} edits of the JSON tree, applied before defaults and binding so that an override
 * is validated exactly like the same value written in the file. Keys are dotted field paths; a list element is
 * picked by index ({@code models.0.d_model=32}) or by model name ({@code models.nope.n_layers=1}).
 */
final class Overrides {
    private Overrides() {
    }

    static void apply(ObjectNode root, Class<?> rootSection, String override) {
        int eq = override == null ? -1 : override.indexOf('=');
        if (eq <= 0) throw new ConfigException("override '" + override + "': expected key=value, e.g. train.steps=200");
        String[] segs = override.substring(0, eq).strip().split("\\.", -1);
        String raw = override.substring(eq + 1);
        ObjectNode obj = root;
        Class<?> section = rootSection;
        String path = "";
        for (int i = 0; i < segs.length; i++) {
            Schema.Field f = Schema.field(section, segs[i]);
            if (f == null)
                throw bad(override, "unknown field '" + ConfigException.join(path, segs[i]) + "'; allowed: " + Schema.allowed(section));
            path = ConfigException.join(path, f.json());
            if (i == segs.length - 1) {
                obj.set(f.json(), value(raw, f.type()));
                return;
            }
            JsonNode child = obj.get(f.json());
            if (Schema.isSection(f.type())) {
                if (child == null || child.isNull()) child = obj.putObject(f.json());
                if (!(child instanceof ObjectNode next)) throw bad(override, path + " is not an object in the config");
                obj = next;
                section = f.type();
            } else if (Schema.isSection(f.element())) {
                if (!(child instanceof ArrayNode items)) throw bad(override, path + " is not a list in the config");
                String sel = segs[++i];
                int idx = select(items, sel);
                if (idx < 0)
                    throw bad(override, path + " has no element '" + sel + "' (give an index 0.." + (items.size() - 1)
                            + " or a model name)");
                path += "[" + idx + "]";
                if (i == segs.length - 1) {
                    items.set(idx, value(raw, f.element()));
                    return;
                }
                if (!(items.get(idx) instanceof ObjectNode next)) throw bad(override, path + " is not an object in the config");
                obj = next;
                section = f.element();
            } else {
                throw bad(override, path + " has no fields");
            }
        }
    }

    private static int select(ArrayNode items, String sel) {
        if (!sel.isEmpty() && sel.chars().allMatch(Character::isDigit)) {
            try {
                int idx = Integer.parseInt(sel);
                return idx < items.size() ? idx : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        for (int i = 0; i < items.size(); i++) if (sel.equals(items.get(i).path("name").asText(null))) return i;
        return -1;
    }

    /**
     * JSON if it parses, else a string. For string-typed fields the raw text is taken even when it would parse
     * as a number ({@code name=2024}, {@code task.lengths=5}), unless it is a quoted string or null.
     */
    private static JsonNode value(String raw, Class<?> type) {
        JsonNode parsed;
        try {
            parsed = Schema.MAPPER.readTree(raw);
            if (parsed != null && parsed.isMissingNode()) parsed = null;
        } catch (Exception e) {
            parsed = null;
        }
        boolean stringy = type == String.class || type == IntRange.class;
        if (parsed != null && (!stringy || parsed.isTextual() || parsed.isNull())) return parsed;
        return TextNode.valueOf(raw);
    }

    private static ConfigException bad(String override, String problem) {
        return new ConfigException("override '" + override + "': " + problem);
    }
}
