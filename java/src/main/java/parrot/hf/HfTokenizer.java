package parrot.hf;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Hugging Face tokenizer.json through Hugging Face's own (Rust) tokenizers, via DJL's bindings, which carry the
 * native library in their jar. Only ever built from a local file: a hub name would make DJL download it.
 * Encoding adds no special tokens (GPT-NeoX's tokenizer adds none either: the reference code's prompts start with
 * their first word), and nothing is truncated or padded.
 */
public final class HfTokenizer implements AutoCloseable {
    public static final String FILE = "tokenizer.json";

    private final HuggingFaceTokenizer tok;
    private final Path file;

    private HfTokenizer(HuggingFaceTokenizer tok, Path file) {
        this.tok = tok;
        this.file = file;
    }

    /** {@code path}: a tokenizer.json, or a folder holding one. */
    public static HfTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE) : path;
        if (!Files.isRegularFile(file))
            throw new HfException(file + ": no such file (parrot reads a local tokenizer.json; pass --tokenizer FILE "
                    + "when the model folder has none, e.g. EleutherAI/gpt-neox-20b's, which the paper used for all models)");
        // DJL logs its native-library extraction at INFO; the evaluation output should stay the results.
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new HfTokenizer(t, file);
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new HfException(file + ": not a tokenizer.json the tokenizers library can read (" + why + ")", e);
        }
    }

    public Path file() {
        return file;
    }

    public int[] encode(String text) {
        long[] ids = tok.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** The text of ids, special tokens included (as the reference code's batch_decode). */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tok.decode(l, false);
    }

    /** The text of ids[from, to). */
    public String decode(int[] ids, int from, int to) {
        return decode(java.util.Arrays.copyOfRange(ids, from, to));
    }

    @Override
    public void close() {
        tok.close();
    }
}
