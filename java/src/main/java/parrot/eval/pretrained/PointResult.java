package parrot.eval.pretrained;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Accuracy at one length: exact match over n prompts, and SQuAD's mean F1 (null for the other tasks).
 *
 * @param length   entries, tokens copied, or the SQuAD bucket's upper edge in context tokens
 * @param n        prompts scored
 * @param accuracy fraction exactly right
 * @param f1       mean token F1 (SQuAD only)
 */
public record PointResult(int length, int n, double accuracy, @JsonInclude(JsonInclude.Include.NON_NULL) Double f1) {
}
