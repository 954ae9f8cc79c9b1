package parrot.results;

import parrot.config.TaskConfig;
import parrot.eval.LengthResult;

import java.util.List;

/** Final accuracy by length on one of eval.tasks (e.g. copy with a duplicated 5-gram). */
public record TaskAccuracy(TaskConfig task, List<LengthResult> accuracy) {
}
