package parrot.cli;

import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.hf.HfExport;
import parrot.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a checkpoint as a Hugging Face folder (config.json + model.safetensors) that transformers' "
                + "GPTNeoXForCausalLM (RoPE, NoPE) or MambaForCausalLM loads unchanged; ALiBi, Hard-ALiBi, LSTM and "
                + "hybrid models have no such architecture and are refused.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "checkpoint folder (or a run folder holding one)")
    Path checkpoint;

    @Option(names = "--hf", required = true, paramLabel = "OUT", description = "the folder to write")
    Path hf;

    @Override
    public Integer call() {
        try (Backend be = new CpuBackend()) {
            Checkpoint.Loaded ck = Checkpoint.load(checkpoint, be);
            String why = HfExport.refusal(ck.modelConfig());
            if (why != null) throw new IllegalArgumentException("--checkpoint: cannot export model " + ck.modelConfig().name()
                    + " to Hugging Face: " + why);
            HfExport.write(ck.model(), ck.modelConfig(), hf);
            System.out.println("wrote " + hf.resolve("config.json") + " and " + hf.resolve("model.safetensors"));
        }
        return 0;
    }
}
