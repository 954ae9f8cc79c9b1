package parrot.cli;

import parrot.backend.Backend;
import parrot.config.IntRange;
import parrot.config.TaskConfig;
import parrot.data.Task;
import parrot.eval.Evaluator;
import parrot.eval.LengthResult;
import parrot.eval.pretrained.PretrainedConfig;
import parrot.eval.pretrained.PretrainedResult;
import parrot.hf.HfModel;
import parrot.hf.HfTokenizer;
import parrot.results.ResultsIO;
import parrot.train.Checkpoint;
import parrot.train.MemoryBudget;
import parrot.train.Tasks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Greedy-decode a checkpoint on a task and report exact-match accuracy by string length.",
                "With --hf: a pretrained Hugging Face Pythia or Mamba folder on the paper's pretrained tasks (phonebook, "
                        + "copy-text, copy-text-shuffled, squad); with --pretrained: every model x task of a config."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", description = "checkpoint folder (model.safetensors + config.json)")
    Path checkpoint;

    @Option(names = "--hf", description = "a downloaded Hugging Face model folder (config.json + model.safetensors or its index)")
    Path hf;

    @Option(names = "--pretrained", paramLabel = "CONFIG", description = "a pretrained-evaluation config: models x tasks, one JSON per cell")
    Path pretrained;

    @Option(names = "--tokenizer", description = "with --hf: tokenizer.json (default: the one in the model folder)")
    Path tokenizer;

    @Option(names = "--text", description = "with --hf and copy-text*: the text to copy windows of (default: parrot's own short text)")
    Path text;

    @Option(names = "--squad", description = "with --hf and squad: a SQuAD v1.1 JSON file")
    Path squad;

    @Option(names = "--name", description = "with --hf: the model's label in results (default: the folder's name)")
    String name;

    @Option(names = "--task", description = "task to evaluate (default: the one it was trained on); its parameters are the trained task's unless given below")
    String task;

    @Option(names = "--ngram", description = "n of copy-dup-ngram / key length of lookup-*")
    Integer ngram;

    @Option(names = "--answer-length", description = "answer length k of lookup-*")
    Integer answerLength;

    @Option(names = "--lengths", description = "string lengths, inclusive: 1..100, 10..200:10 (default 1..60); with --hf: "
            + "phone-book entries, tokens copied, or SQuAD bucket edges in context tokens")
    String lengths;

    @Option(names = "--samples", description = "strings per length (default 100; with --hf 96, squad 30 contexts per bucket)")
    Integer samples;

    @Option(names = "--batch-size", description = "strings decoded together (default 100; with --hf 32)")
    Integer batchSize;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--device", defaultValue = "auto")
    String device;

    @Option(names = "--json", description = "also write the accuracy table as JSON here")
    Path json;

    @Override
    public Integer call() {
        int sources = (checkpoint != null ? 1 : 0) + (hf != null ? 1 : 0) + (pretrained != null ? 1 : 0);
        if (sources != 1) throw new IllegalArgumentException("give exactly one of --checkpoint, --hf, --pretrained");
        if (hf != null || pretrained != null) return pretrained();
        for (Object o : new Object[]{tokenizer, text, squad, name})
            if (o != null) throw new IllegalArgumentException("--tokenizer, --text, --squad and --name go with --hf");
        int samples = this.samples == null ? 100 : this.samples, batchSize = this.batchSize == null ? 100 : this.batchSize;
        IntRange range;
        try {
            range = IntRange.parse(lengths == null ? "1..60" : lengths).check("--lengths", 1);
        } catch (parrot.config.ConfigException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("--lengths") ? e.getMessage() : "--lengths: " + e.getMessage());
        }
        if (json != null) Outputs.checkFile("--json", json);
        if (samples < 1) throw new IllegalArgumentException("--samples: must be >= 1, got " + samples);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size: must be >= 1, got " + batchSize);
        try (Backend be = Devices.open(device)) {
            Evidence.refuseResultsFolder(json, Evidence.emulated(be), "--json");
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
                doc.put("device", Evidence.device(be));
                doc.put("git_commit", BuildInfo.gitCommit());
                doc.put("accuracy", acc);
                ResultsIO.write(json, doc);
            }
        }
        return 0;
    }

    private int pretrained() {
        if (pretrained != null) {
            for (Object o : new Object[]{task, tokenizer, text, squad, name, lengths, samples, batchSize, json, ngram, answerLength})
                if (o != null) throw new IllegalArgumentException("--pretrained: the config holds the models, tasks and options; "
                        + "give only --device with it");
            PretrainedConfig cfg = PretrainedConfig.read(pretrained);
            try (Backend be = Devices.open(device.equals("auto") ? cfg.device() : device)) {
                PretrainedRun.sweep(cfg, be, System.out);
            }
            return 0;
        }
        if (task == null) throw new IllegalArgumentException("--task: required with --hf; one of " + String.join(", ", PretrainedConfig.TASKS));
        if (ngram != null || answerLength != null) throw new IllegalArgumentException("--ngram and --answer-length are for trained checkpoints");
        if (lengths == null) throw new IllegalArgumentException("--lengths: required with --hf, e.g. 20..140:20 for the phone book");
        if (!PretrainedConfig.TASKS.contains(task))
            throw new IllegalArgumentException("--task: '" + task + "' is not a pretrained task; allowed: " + String.join(", ", PretrainedConfig.TASKS));
        if (text != null && !task.startsWith("copy-text")) throw new IllegalArgumentException("--text: only for copy-text tasks");
        if (squad != null && !task.equals("squad")) throw new IllegalArgumentException("--squad: only for --task squad");
        // checked before the model loads: a 2.8B model takes a while to read
        if (squad == null && task.equals("squad"))
            throw new IllegalArgumentException("--squad: required with --task squad (a SQuAD v1.1 JSON file, e.g. dev-v1.1.json)");
        for (Path p : new Path[]{squad, text})
            if (p != null && !Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": no such file");
        int n = samples != null ? samples : task.equals("squad") ? 30 : 96, bs = batchSize != null ? batchSize : 32;
        if (n < 1) throw new IllegalArgumentException("--samples: must be >= 1, got " + n);
        int[] ls;
        try {
            ls = IntRange.parse(lengths).check("--lengths", 1).values();
        } catch (parrot.config.ConfigException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("--lengths") ? e.getMessage() : "--lengths: " + e.getMessage());
        }
        if (json != null) Outputs.checkFile("--json", json);
        try (Backend be = Devices.open(device)) {
            HfModel m = HfModel.load(hf, be, name);
            try (HfTokenizer tok = PretrainedRun.tokenizer(tokenizer, hf)) {
                PretrainedResult r = PretrainedRun.evaluate(m, tok, task, ls, n, text != null ? text : squad, bs, seed, be, System.out);
                if (json != null) {
                    ResultsIO.write(json, r);
                    System.out.println("wrote " + json);
                }
            }
        }
        return 0;
    }
}
