package parrot.results;

import parrot.eval.LengthResult;

import java.util.List;

/**
 * Accuracy at the eval lengths measured during training (train.eval_every), with how far training had got:
 * the optimizer step and the number of whole training examples seen up to and including it.
 */
public record EvalPoint(int step, long examplesSeen, List<LengthResult> accuracy) {
    /** Mean string accuracy over the lengths (the y of an accuracy-against-examples plot). */
    public double meanStringAccuracy() {
        return accuracy.stream().mapToDouble(LengthResult::stringAccuracy).average().orElse(Double.NaN);
    }
}
