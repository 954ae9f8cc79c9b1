package parrot.data;

import java.util.List;

/**
 * A synthetic task: draws examples of a given "length" — the string length for copy and lookup, the number of
 * entries for the phone book. Every task shares copy's conventions: an example starts with BOS, its answer
 * (tokens from answerStart on) ends with EOS, the loss covers the answer only, and scoring is exact match of
 * the answer without its EOS.
 */
public interface Task {
    /** Task names {@link #create} knows, in the order configs list them. */
    List<String> NAMES = List.of("copy", "copy-dup-ngram", "lookup-prefix", "lookup-suffix", "phonebook");

    String name();

    Vocab vocab();

    /** One example whose string has {@code length} characters; all randomness comes from {@code rng}. */
    Example sample(Rng rng, int length);

    /** Token count (an upper bound where it varies) of an example of that length, to check contexts. */
    int maxTokens(int length);

    /** The shortest length this task can draw. */
    default int minLength() {
        return 0;
    }

    /** A task with its default parameters (n-gram 3, answer length 3, 10 digits). */
    static Task create(String name, Vocab vocab) {
        return create(new TaskSpec(name, vocab.alphabet(), TaskSpec.DEFAULT_NGRAM, TaskSpec.DEFAULT_ANSWER_LENGTH,
                TaskSpec.DEFAULT_DIGITS), vocab);
    }

    static Task create(TaskSpec spec) {
        return create(spec, new Vocab(spec.alphabet()));
    }

    private static Task create(TaskSpec s, Vocab vocab) {
        return switch (s.type()) {
            case "copy" -> new CopyTask(vocab);
            case "copy-dup-ngram" -> new DupNgramCopyTask(vocab, s.ngram());
            case "lookup-prefix" -> new LookupTask(vocab, s.ngram(), s.answerLength(), true);
            case "lookup-suffix" -> new LookupTask(vocab, s.ngram(), s.answerLength(), false);
            case "phonebook" -> new PhoneBookTask(vocab, s.digits());
            default -> throw new IllegalArgumentException("unknown task '" + s.type() + "'; allowed: "
                    + String.join(", ", NAMES));
        };
    }
}
