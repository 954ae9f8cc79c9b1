package parrot.cli;

import parrot.backend.Backend;
import parrot.config.IntRange;
import parrot.config.TaskConfig;
import parrot.data.Task;
import parrot.eval.Evaluator;
import parrot.eval.LengthResult;
import parrot.results.ResultsIO;
import parrot.train.Checkpoint;
import parrot.train.MemoryBudget;
import parrot.train.Tasks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Greedy-decode a checkpoint on a task and report exact-match accuracy by string length.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "checkpoint folder (model.safetensors + config.json)")
    Path checkpoint;

    @Option(names = "--task", description = "task to evaluate (default: the one it was trained on); its parameters are the trained task's unless given below")
    String task;

    @Option(names = "--ngram", description = "n of copy-dup-ngram / key length of lookup-*")
    Integer ngram;

    @Option(names = "--answer-length", description = "answer length k of lookup-*")
    Integer answerLength;

    @Option(names = "--lengths", defaultValue = "1..60", description = "string lengths, inclusive: 1..100, 10..200:10 (default ${DEFAULT-VALUE})")
    String lengths;

    @Option(names = "--samples", defaultValue = "100", description = "strings per length (default ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--batch-size", defaultValue = "100", description = "strings decoded together (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--device", defaultValue = "auto")
    String device;

    @Option(names = "--json", description = "also write the accuracy table as JSON here")
    Path json;

    @Override
    public Integer call() {
        IntRange range;
        try {
            range = IntRange.parse(lengths).check("--lengths", 1);
        } catch (parrot.config.ConfigException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("--lengths") ? e.getMessage() : "--lengths: " + e.getMessage());
        }
        if (json != null) Outputs.checkFile("--json", json);
        if (samples < 1) throw new IllegalArgumentException("--samples: must be >= 1, got " + samples);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size: must be >= 1, got " + batchSize);
        try (Backend be = Devices.open(device)) {
            Checkpoint.Loaded ck = Checkpoint.load(checkpoint, be);
            String taskName = task != null ? task : ck.task().type();
            TaskConfig tc = ck.task();
            tc = new TaskConfig(taskName, tc.alphabet(), tc.lengths(), ngram != null ? ngram : tc.ngram(),
                    answerLength != null ? answerLength : tc.answerLength(), tc.digits());
            Task t = Tasks.of(tc);
            if (t.vocab().size() != ck.model().vocab())
                throw new IllegalArgumentException("--task: " + taskName + " needs a vocabulary of " + t.vocab().size()
                        + " tokens, the checkpoint has " + ck.model().vocab());
            MemoryBudget.checkEval("eval", ck.modelConfig(), ck.model().vocab(), Math.min(batchSize, samples),
                    t.maxTokens(range.hi()), be.dtype() == parrot.backend.Tensor.DType.F64 ? 8 : 4);
            List<LengthResult> acc = new Evaluator(ck.model(), t, batchSize, seed).evaluate(range.values(), samples, null);
            Map<String, List<LengthResult>> table = new LinkedHashMap<>();
            table.put(ck.modelConfig().name(), acc);
            Tables.printAccuracy(System.out, table, ck.task().lengths().hi());
            if (json != null) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("schema", "parrot.eval/1");
                doc.put("checkpoint", checkpoint.toString());
                doc.put("task", taskName);
                doc.put("task_config", tc);
                doc.put("seed", seed);
                doc.put("backend", be.name());
                doc.put("git_commit", BuildInfo.gitCommit());
                doc.put("accuracy", acc);
                ResultsIO.write(json, doc);
            }
        }
        return 0;
    }
}
