package parrot.data;

/**
 * What {@link Task#create(TaskSpec)} needs to build a task: its type and parameters. The config package holds the
 * validated twin (parrot.config.TaskConfig); data stays a leaf, so the two are kept apart and converted by the
 * caller.
 *
 * @param type         one of {@link Task#NAMES}
 * @param alphabet     letters a.. used, 2..26
 * @param ngram        copy-dup-ngram: length n of the duplicated n-gram; lookup-*: length n of the key
 * @param answerLength lookup-*: characters k of the answer (those following the key's first occurrence)
 * @param digits       phonebook: digits of each phone number
 */
public record TaskSpec(String type, int alphabet, int ngram, int answerLength, int digits) {
    public static final int DEFAULT_NGRAM = 3, DEFAULT_ANSWER_LENGTH = 3, DEFAULT_DIGITS = 10;

    public static TaskSpec of(String type, int alphabet) {
        return new TaskSpec(type, alphabet, DEFAULT_NGRAM, DEFAULT_ANSWER_LENGTH, DEFAULT_DIGITS);
    }
}
