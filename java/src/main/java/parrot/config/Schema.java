package parrot.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The config records seen as JSON: field names, which fields are nested sections, and their defaults. Defaults
 * and unknown-field checks work on the JSON tree before binding, because a record's {@code int} cannot tell a
 * missing field from a 0.
 */
final class Schema {
    static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT) // steps: 1.5 is a mistake, not 1
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)    // steps: "200" too
            .build();

    /** Sections: records that are JSON objects with defaults (IntRange is a record too, but a JSON string). */
    private static final Map<Class<?>, Supplier<ObjectNode>> DEFAULTS = Map.of(
            ExperimentConfig.class, () -> MAPPER.createObjectNode().put("seed", ExperimentConfig.DEFAULT_SEED),
            TaskConfig.class, () -> MAPPER.valueToTree(TaskConfig.defaults()),
            TrainConfig.class, () -> MAPPER.valueToTree(TrainConfig.defaults()),
            EvalConfig.class, () -> MAPPER.valueToTree(EvalConfig.defaults()),
            ModelConfig.class, () -> modelDefaults(MAPPER.createObjectNode()));

    /** A JSON field of a section; element is the item type of a list, else null. */
    record Field(String json, Class<?> type, Class<?> element) {
    }

    private Schema() {
    }

    static boolean isSection(Class<?> type) {
        return type != null && DEFAULTS.containsKey(type);
    }

    static List<Field> fields(Class<?> section) {
        List<Field> out = new ArrayList<>();
        for (RecordComponent c : section.getRecordComponents()) {
            Class<?> element = null;
            if (c.getGenericType() instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> e)
                element = e;
            out.add(new Field(PropertyNamingStrategies.SnakeCaseStrategy.INSTANCE.translate(c.getName()), c.getType(), element));
        }
        return out;
    }

    static Field field(Class<?> section, String json) {
        for (Field f : fields(section)) if (f.json.equals(json)) return f;
        return null;
    }

    static String allowed(Class<?> section) {
        return String.join(", ", fields(section).stream().map(Field::json).toList());
    }

    /**
     * Rejects unknown fields and fills missing (or null) ones with defaults, recursively. A missing section
     * becomes all defaults; a missing required field stays missing for the record to report.
     */
    static void complete(JsonNode node, Class<?> section, String path) {
        if (!(node instanceof ObjectNode obj))
            throw new ConfigException(path.isEmpty() ? "config" : path, "expected an object, got " + describe(node));
        for (var it = obj.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (field(section, name) == null)
                throw new ConfigException("unknown field '" + ConfigException.join(path, name) + "'; allowed: " + allowed(section));
        }
        ObjectNode defaults = section == ModelConfig.class ? modelDefaults(obj) : DEFAULTS.get(section).get();
        for (Field f : fields(section)) {
            JsonNode v = obj.get(f.json);
            if (v == null || v.isNull()) {
                JsonNode d = defaults.get(f.json);
                if (d != null && !d.isNull()) obj.set(f.json, d.deepCopy());
                else if (isSection(f.type)) obj.putObject(f.json);
                v = obj.get(f.json);
            }
            String at = ConfigException.join(path, f.json);
            if (isSection(f.type)) complete(v, f.type, at);
            else if (isSection(f.element) && v instanceof ArrayNode items)
                for (int i = 0; i < items.size(); i++) complete(items.get(i), f.element, at + "[" + i + "]");
        }
    }

    /** A model's defaults depend on its family (a hybrid's depth comes from its block pattern). */
    private static ObjectNode modelDefaults(ObjectNode model) {
        JsonNode family = model.get("family");
        String f = family != null && family.isTextual() ? family.asText() : "transformer";
        ObjectNode n = MAPPER.valueToTree(ModelConfig.defaults("model"));
        n.remove("name"); // required
        // The sizes and the hard-alibi head count derive from other fields, so the record resolves them. The
        // positional scheme has a default (hard-alibi, documented) only where there is attention: a stack
        // without attention has none, and one given there is refused.
        n.remove(List.of("intermediate_size", "lstm_hidden", "hard_alibi_heads"));
        JsonNode blocks = model.get("blocks");
        boolean attn = f.equals("transformer") || f.equals("hybrid") && blocks != null && blocks.isTextual() && blocks.asText().contains("attn");
        if (!attn) n.remove("positional");
        if (f.equals("hybrid")) n.put("n_layers", 0); // = the number of blocks in the pattern
        return n;
    }

    /** A JSON value as an error message shows it. */
    static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) return "nothing";
        if (node.isArray()) return "a list " + node;
        if (node.isObject()) return "an object";
        return node.toString();
    }
}
