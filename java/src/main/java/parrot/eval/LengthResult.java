package parrot.eval;

/** Exact-match accuracy of greedy decoding at one string length. */
public record LengthResult(int length, int samples, double stringAccuracy, double charAccuracy) {
}
