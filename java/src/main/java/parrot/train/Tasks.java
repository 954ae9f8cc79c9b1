package parrot.train;

import parrot.config.TaskConfig;
import parrot.data.Task;
import parrot.data.TaskSpec;

/** The validated task config made into a data task (config and data are leaves and do not know each other). */
public final class Tasks {
    private Tasks() {
    }

    public static Task of(TaskConfig t) {
        return Task.create(new TaskSpec(t.type(), t.alphabet(), t.ngram(), t.answerLength(), t.digits()));
    }
}
