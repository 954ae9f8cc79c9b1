package parrot.eval.pretrained;

import java.util.List;

/**
 * One prompt of a pretrained evaluation and what counts as right.
 *
 * @param prompt   the text fed to the model
 * @param answers  the gold answers (one for phone book and copy, SQuAD's list for QA)
 * @param maxNew   the generation budget in new tokens
 * @param length   the x of the plot: phone-book entries, copied tokens, or the SQuAD context's bucket
 */
public record Example(String prompt, List<String> answers, int maxNew, int length) {
}
