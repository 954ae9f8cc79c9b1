package parrot.eval.pretrained;

import parrot.data.Rng;
import parrot.hf.HfTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Copying natural text (reference code: EvalC4CopyDataset): a window of L tokens of a text, taken at a random
 * place (its tokens shuffled in the -shuffled variant), decoded, "\n" made " ", stripped. Prompt:
 * {@code text + "\n\n" + text + "\n\n" + firstWord}; the answer is the text after its first word (split on " ");
 * the budget is int(1.5 × prompt tokens) + 50 minus the prompt, as the reference's max_length; the prediction is
 * the generation up to the first "\n\n", "\n" made " ", stripped; exact match. The reference draws ten C4
 * documents per prompt and takes the window from their concatenation; here the text is one file the user gives
 * (or parrot's own short default), tokenized once, and every window is drawn from it.
 */
public final class CopyTextPrompts implements PretrainedTask {
    private final HfTokenizer tok;
    private final int[] ids;
    private final boolean shuffled;

    public CopyTextPrompts(HfTokenizer tok, String text, boolean shuffled) {
        this.tok = tok;
        this.ids = tok.encode(text);
        this.shuffled = shuffled;
    }

    @Override
    public String name() {
        return shuffled ? "copy-text-shuffled" : "copy-text";
    }

    @Override
    public String lengthUnit() {
        return "tokens copied";
    }

    public int textTokens() {
        return ids.length;
    }

    @Override
    public List<Example> examples(int length, int samples, Rng rng) {
        if (length < 1) throw new IllegalArgumentException("--lengths: copy lengths must be >= 1 token, got " + length);
        if (length >= ids.length)
            throw new IllegalArgumentException("--lengths: a window of " + length + " tokens needs a longer text (it has "
                    + ids.length + " tokens); pass a longer --text file");
        List<Example> out = new ArrayList<>(samples);
        for (int s = 0; s < samples; s++) {
            int start = rng.nextInt(ids.length - length);           // np.random.randint(0, n - L)
            int[] w = Arrays.copyOfRange(ids, start, start + length);
            if (shuffled) shuffle(w, rng);
            String text = tok.decode(w).replace("\n", " ").strip();
            String[] words = text.split(" ", -1);
            String first = words[0];
            String label = String.join(" ", Arrays.asList(words).subList(1, words.length));
            String prompt = text + "\n\n" + text + "\n\n" + first;
            int promptTokens = tok.encode(prompt).length;
            int maxNew = (int) (1.5 * promptTokens) + 50 - promptTokens;
            out.add(new Example(prompt, List.of(label), maxNew, length));
        }
        return out;
    }

    /** Fisher–Yates (the reference permutes with random.sample). */
    static void shuffle(int[] a, Rng rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    @Override
    public String prediction(String generated) {
        int cut = generated.indexOf("\n\n");
        return (cut < 0 ? generated : generated.substring(0, cut)).replace("\n", " ").strip();
    }

    @Override
    public String stopText() {
        return "\n\n";
    }
}
