package parrot.results;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Checks a result (schema {@value RunResult#SCHEMA}, documented in experiments/README.md) before merge or plot
 * use it, so that a null final_loss does not become 0.0, a "NaN" string is not merged as an accuracy, and a run
 * without accuracies does not turn into an empty table. Fields the schema does not name are left alone (newer
 * parrot versions may add some); every field it names must have its documented type and range. A problem is
 * one line naming the file and the field.
 */
public final class ResultValidation {
    private ResultValidation() {
    }

    /** A result that breaks the schema; the message names the file and the field. */
    public static final class InvalidResultException extends IllegalArgumentException {
        public InvalidResultException(String message) {
            super(message);
        }
    }

    /** Throws {@link InvalidResultException} unless {@code run} is a valid result; {@code source} names its file. */
    public static void check(JsonNode run, String source) {
        V v = new V(source);
        if (run == null || !run.isObject()) throw v.bad("", "must be a JSON object");
        if (!RunResult.SCHEMA.equals(run.path("schema").asText()))
            throw v.bad("schema", "must be \"" + RunResult.SCHEMA + "\", found " + show(run.get("schema")));
        v.text(run, "experiment");
        v.text(run, "model");
        v.integer(run, "seed", Long.MIN_VALUE);
        v.integer(run, "parameters", 1);
        v.integer(run, "examples_seen", 0);
        for (String section : new String[]{"model_config", "task", "eval"})       // what merge and plot read
            if (!run.path(section).isObject()) throw v.bad(section, "must be an object, found " + show(run.get(section)));
        v.text(run.get("task"), "task.type", "type");
        v.number(run, "final_loss", 0, Double.POSITIVE_INFINITY);
        v.accuracy(run.get("accuracy"), "accuracy", true);
        JsonNode ta = run.get("task_accuracy");
        if (ta != null && !ta.isNull()) {
            if (!ta.isArray()) throw v.bad("task_accuracy", "must be a list, found " + show(ta));
            for (int i = 0; i < ta.size(); i++) {
                String at = "task_accuracy[" + i + "]";
                if (!ta.get(i).path("task").isObject()) throw v.bad(at + ".task", "must be an object");
                v.text(ta.get(i).get("task"), at + ".task.type", "type");
                v.accuracy(ta.get(i).get("accuracy"), at + ".accuracy", true);
            }
        }
        JsonNode ec = run.get("eval_curve");
        if (ec != null && !ec.isNull()) {
            if (!ec.isArray()) throw v.bad("eval_curve", "must be a list, found " + show(ec));
            for (int i = 0; i < ec.size(); i++) {
                String at = "eval_curve[" + i + "]";
                v.integer(ec.get(i), at + ".step", "step", 1);
                v.integer(ec.get(i), at + ".examples_seen", "examples_seen", 0);
                v.accuracy(ec.get(i).get("accuracy"), at + ".accuracy", true);
            }
        }
        for (String opt : new String[]{"state_bits", "copy_bound_length"}) {
            JsonNode n = run.get(opt);
            if (n != null && !n.isNull() && !(n.isNumber() && Double.isFinite(n.asDouble()) && n.asDouble() >= 0))
                throw v.bad(opt, "must be a non-negative number or null, found " + show(n));
        }
    }

    private record V(String source) {
        InvalidResultException bad(String field, String problem) {
            return new InvalidResultException(source + (field.isEmpty() ? "" : ": " + field) + ": " + problem);
        }

        void text(JsonNode obj, String field) {
            text(obj, field, field);
        }

        void text(JsonNode obj, String path, String field) {
            JsonNode n = obj.get(field);
            if (n == null || !n.isTextual() || n.asText().isEmpty()) throw bad(path, "must be a non-empty string, found " + show(n));
        }

        void integer(JsonNode obj, String field, long min) {
            integer(obj, field, field, min);
        }

        void integer(JsonNode obj, String path, String field, long min) {
            JsonNode n = obj == null ? null : obj.get(field);
            if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min)
                throw bad(path, "must be an integer" + (min == Long.MIN_VALUE ? "" : " >= " + min) + ", found " + show(n));
        }

        void number(JsonNode obj, String field, double lo, double hi) {
            number(obj, field, field, lo, hi);
        }

        void number(JsonNode obj, String path, String field, double lo, double hi) {
            JsonNode n = obj == null ? null : obj.get(field);
            if (n == null || !n.isNumber() || !Double.isFinite(n.asDouble()) || n.asDouble() < lo || n.asDouble() > hi)
                throw bad(path, "must be a finite number" + (hi == Double.POSITIVE_INFINITY ? " >= " + lo : " in [" + lo + ", " + hi + "]")
                        + ", found " + show(n));
        }

        void accuracy(JsonNode list, String path, boolean nonEmpty) {
            if (list == null || !list.isArray()) throw bad(path, "must be a list of {length, samples, string_accuracy, char_accuracy}, found " + show(list));
            if (nonEmpty && list.isEmpty()) throw bad(path, "is empty: the run has no accuracy to merge or plot");
            for (int i = 0; i < list.size(); i++) {
                JsonNode a = list.get(i);
                String at = path + "[" + i + "]";
                if (!a.isObject()) throw bad(at, "must be an object, found " + show(a));
                integer(a, at + ".length", "length", 1);
                integer(a, at + ".samples", "samples", 1);
                number(a, at + ".string_accuracy", "string_accuracy", 0, 1);
                number(a, at + ".char_accuracy", "char_accuracy", 0, 1);
            }
        }
    }

    private static String show(JsonNode n) {
        if (n == null || n.isMissingNode()) return "nothing";
        String s = n.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
