package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Runs of one experiment and model that differ only in seed, as one group: what merge aggregates and plot
 * draws as a mean with a band. Two runs of one (experiment, model) whose configs differ in anything else
 * (model, task, training recipe, evaluation) are refused: averaging them would hide the difference.
 * Bookkeeping that cannot change a result (train.device, log_every, checkpoint_every) is not compared.
 */
public final class SeedGroups {
    /** train fields that do not change what is learned or measured. */
    private static final Set<String> BOOKKEEPING = Set.of("device", "log_every", "checkpoint_every");
    private static final List<String> SECTIONS = List.of("model_config", "task", "train", "eval");

    /** The runs of one experiment and model, in input order; seeds distinct. */
    public record Group(String experiment, String model, List<JsonNode> runs) {
        public List<Long> seeds() {
            return runs.stream().map(r -> r.path("seed").asLong()).toList();
        }

        public JsonNode first() {
            return runs.get(0);
        }

        /**
         * x → the measurement across seeds; {@code points} gives one run's measurements by x as accuracy lists
         * (pooled over when a list holds several lengths). A seed without a value at some x is left out there.
         */
        public TreeMap<Double, Across> across(Function<JsonNode, Map<Double, JsonNode>> points) {
            TreeMap<Double, List<Object[]>> byX = new TreeMap<>();
            for (JsonNode r : runs)
                points.apply(r).forEach((x, acc) -> byX.computeIfAbsent(x, k -> new ArrayList<>())
                        .add(new Object[]{r.path("seed").asLong(), acc}));
            TreeMap<Double, Across> out = new TreeMap<>();
            byX.forEach((x, list) -> {
                List<Long> seeds = new ArrayList<>();
                List<Double> values = new ArrayList<>();
                long right = 0, n = 0;
                for (Object[] o : list) {
                    JsonNode acc = (JsonNode) o[1];
                    seeds.add((Long) o[0]);
                    values.add(Across.pooledAccuracy(acc));
                    long[] p = Across.pooled(acc);
                    right += p[0];
                    n += p[1];
                }
                out.put(x, new Across(List.copyOf(seeds), List.copyOf(values), right, n));
            });
            return out;
        }
    }

    private SeedGroups() {
    }

    /** Groups by (experiment, model) in input order; throws IllegalArgumentException (one line) on a mixed group. */
    public static List<Group> of(List<? extends JsonNode> runs) {
        Map<String, List<JsonNode>> by = new LinkedHashMap<>();
        for (JsonNode r : runs)
            by.computeIfAbsent(r.path("experiment").asText() + "/" + r.path("model").asText(), k -> new ArrayList<>()).add(r);
        List<Group> out = new ArrayList<>();
        for (var e : by.entrySet()) {
            List<JsonNode> rs = e.getValue();
            JsonNode first = rs.get(0);
            for (JsonNode r : rs.subList(1, rs.size())) {
                String diff = difference(first, r);
                if (diff != null)
                    throw new IllegalArgumentException(e.getKey() + ": seed " + first.path("seed").asText() + " ("
                            + source(first) + ") and seed " + r.path("seed").asText() + " (" + source(r) + ") differ in "
                            + diff + ", not only in seed; merge or plot them separately (or give them different model names)");
            }
            out.add(new Group(first.path("experiment").asText(), first.path("model").asText(), List.copyOf(rs)));
        }
        return out;
    }

    private static String source(JsonNode r) {
        return r.path("source").asText("?");
    }

    /** The first config field two runs disagree on, as "train.steps (600 vs 200)"; null if none. */
    static String difference(JsonNode a, JsonNode b) {
        for (String s : SECTIONS) {
            String d = diff(s, a.path(s), b.path(s), s.equals("train"));
            if (d != null) return d;
        }
        return null;
    }

    private static String diff(String path, JsonNode a, JsonNode b, boolean train) {
        if (a.isObject() && b.isObject()) {
            Set<String> names = new java.util.TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                if (train && BOOKKEEPING.contains(n)) continue;
                String d = diff(path + "." + n, a.path(n), b.path(n), false);
                if (d != null) return d;
            }
            return null;
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            Iterator<JsonNode> ia = a.elements(), ib = b.elements();
            for (int i = 0; ia.hasNext(); i++) {
                String d = diff(path + "[" + i + "]", ia.next(), ib.next(), false);
                if (d != null) return d;
            }
            return null;
        }
        if (a.equals(b) || (a.isNumber() && b.isNumber() && a.asDouble() == b.asDouble())) return null;
        return path + " (" + show(a) + " vs " + show(b) + ")";
    }

    private static String show(JsonNode n) {
        return n.isMissingNode() ? "absent" : n.toString();
    }
}
