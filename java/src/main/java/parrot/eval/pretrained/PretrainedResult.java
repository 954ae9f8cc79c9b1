package parrot.eval.pretrained;

import java.util.List;
import java.util.Map;

/**
 * A pretrained model's accuracy on one task by length: the JSON that `parrot plot` draws Pythia against Mamba from
 * (schema {@value #SCHEMA}, documented in experiments/README.md).
 *
 * @param model      a label (default: the model folder's name)
 * @param family     gpt_neox or mamba (config.json's model_type)
 * @param hfDir      the model folder
 * @param tokenizer  the tokenizer.json used
 * @param parameters parameter count
 * @param task       phonebook, copy-text, copy-text-shuffled or squad
 * @param lengthUnit what length counts
 * @param options    the task's inputs (text or SQuAD file, samples, batch size)
 * @param results    one point per length
 */
public record PretrainedResult(String schema, String model, String family, String hfDir, String tokenizer,
                               long parameters, String task, String lengthUnit, Map<String, Object> options, long seed,
                               String backend, String gitCommit, String startedAt, double wallSeconds,
                               List<PointResult> results) {
    public static final String SCHEMA = "parrot.pretrained/1";
}
