package parrot.eval;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Exact-match accuracy of greedy decoding at one string length, on {@code samples} (n) strings. The result JSON
 * also carries string accuracy's 95% Wilson interval (string_accuracy_lo, string_accuracy_hi): written, and
 * recomputed from (samples, string_accuracy) when read, so it can never disagree with them.
 */
public record LengthResult(int length, int samples, double stringAccuracy, double charAccuracy) {
    /** Strings scored exactly right. */
    public long stringsRight() {
        return Math.round(stringAccuracy * samples);
    }

    public Wilson stringInterval() {
        return Wilson.of(stringsRight(), samples);
    }

    @JsonProperty(value = "string_accuracy_lo", access = JsonProperty.Access.READ_ONLY)
    public double stringAccuracyLo() {
        return stringInterval().lo();
    }

    @JsonProperty(value = "string_accuracy_hi", access = JsonProperty.Access.READ_ONLY)
    public double stringAccuracyHi() {
        return stringInterval().hi();
    }
}
