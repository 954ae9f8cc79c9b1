package parrot.results;

import parrot.config.EvalConfig;
import parrot.config.ModelConfig;
import parrot.config.TaskConfig;
import parrot.config.TrainConfig;
import parrot.eval.LengthResult;

import java.util.List;

/**
 * One training run and its evaluation: the JSON that plots and tables are made from. Its schema is documented
 * in experiments/README.md; bump {@link #SCHEMA} when a field changes meaning.
 */
public record RunResult(
        String schema,
        String experiment,
        String model,
        long seed,
        String gitCommit,
        String backend,
        String startedAt,
        long parameters,
        ModelConfig modelConfig,
        TaskConfig task,
        TrainConfig train,
        EvalConfig eval,
        long examplesSeen,
        List<EvalPoint> evalCurve,
        List<TaskAccuracy> taskAccuracy,
        double wallSeconds,
        double trainSeconds,
        double tokensPerSecond,
        double finalLoss,
        List<LossPoint> lossCurve,
        List<LengthResult> accuracy) {

    public static final String SCHEMA = "parrot.run/1";
}
