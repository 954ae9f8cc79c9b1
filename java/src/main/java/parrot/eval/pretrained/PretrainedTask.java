package parrot.eval.pretrained;

import parrot.data.Rng;

import java.util.List;

/**
 * One of the paper's evaluations of pretrained models (Section 4.2, Figures 5 and 6), built as the reference code
 * (sjelassi/transformers_ssm_copy, pretrained_exps/) builds it: the prompts at one length, the budget, how the
 * generated text becomes a prediction, and when generation can stop because the prediction is settled.
 */
public interface PretrainedTask {
    /** phonebook, copy-text, copy-text-shuffled or squad. */
    String name();

    /** What {@code length} counts, for the plot's x axis. */
    String lengthUnit();

    /** {@code samples} prompts at {@code length}; fewer where the data run out (SQuAD buckets). */
    List<Example> examples(int length, int samples, Rng rng);

    /** The reference code's post-processing of the decoded new tokens. */
    String prediction(String generated);

    /** Generation may end once the decoded new tokens contain this (the prediction cannot change after it). */
    String stopText();

    /** True when the end-of-text token may not be the first one generated (Pythia on SQuAD). */
    default boolean suppressEosFirst() {
        return false;
    }

    /** Exact match, as the task defines it. */
    default boolean exactMatch(String prediction, List<String> answers) {
        return answers.contains(prediction);
    }

    /** Token F1, for tasks that report it (SQuAD); NaN otherwise. */
    default double f1(String prediction, List<String> answers) {
        return Double.NaN;
    }
}
