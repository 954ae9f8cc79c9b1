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
 *
 * <p>stateBits and copyBoundLength are the theory beside the measurement (parrot.model.StateCapacity): the
 * recurrent state of a fixed-state model (Mamba, LSTM, attention-free hybrids) in bits, and the longest string
 * Corollary 2.8 lets it copy with error below 1/2 at the task's alphabet size; both null for a model with
 * attention (absent in results written before they existed).
 *
 * <p>device is the device's own name: "cpu", a card's name, or "emulated CUDA device (CPU)" for the CPU
 * implementation of the CUDA driver, whose runs are never GPU results (absent in results written before it).
 */
public record RunResult(
        String schema,
        String experiment,
        String model,
        long seed,
        String gitCommit,
        String backend,
        String device,
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
        List<LengthResult> accuracy,
        Long stateBits,
        Long copyBoundLength) {

    public static final String SCHEMA = "parrot.run/1";
}
