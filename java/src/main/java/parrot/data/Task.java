package parrot.data;

import java.util.List;

/** A synthetic task: draws examples of a given string length. */
public interface Task {
    /** Task names {@link #create} knows, in the order configs list them. */
    List<String> NAMES = List.of("copy");

    String name();

    Vocab vocab();

    /** One example whose string has {@code length} characters; all randomness comes from {@code rng}. */
    Example sample(Rng rng, int length);

    /** Token count of an example of that string length, so contexts can be checked before training. */
    int maxTokens(int length);

    static Task create(String name, Vocab vocab) {
        return switch (name) {
            case "copy" -> new CopyTask(vocab);
            default -> throw new IllegalArgumentException("unknown task '" + name + "'; allowed: "
                    + String.join(", ", NAMES));
        };
    }
}
