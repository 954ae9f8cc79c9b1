package parrot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import parrot.results.Plots;
import parrot.results.PretrainedPlots;
import parrot.results.ResultTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "PNG figures like the paper's from result JSON (files, folders, merged tables): accuracy against "
                + "training examples seen, against length (training range shaded), against n for duplicated n-grams, "
                + "the lookup panels, and capacity against the bound when runs carry state_bits; for pretrained-model results "
                + "(parrot eval --hf), accuracy against length per task, Pythia against Mamba.")
final class PlotCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RESULTS", description = "result files, folders or merged tables")
    List<Path> inputs;

    @Option(names = "--out", required = true, description = "folder for the PNGs")
    Path out;

    @Override
    public Integer call() {
        for (Path p : inputs) if (!Files.exists(p)) throw new IllegalArgumentException("no such file or folder: " + p);
        // pretrained-model results (parrot eval --hf) are drawn apart: Pythia against Mamba per task
        List<JsonNode> pretrained = PretrainedPlots.collect(inputs);
        List<Path> runInputs = inputs.stream().filter(p -> !PretrainedPlots.isPretrained(p)).toList();
        List<ObjectNode> runs = runInputs.isEmpty() ? List.of() : ResultTable.collect(runInputs);
        if (runs.isEmpty() && pretrained.isEmpty())
            throw new IllegalArgumentException("no parrot.run/1 result found (nor a parrot.pretrained/1 one) in " + inputs);
        if (!runs.isEmpty()) {
            Plots.Report r = Plots.write(runs, out);
            r.written().forEach(p -> System.out.println("wrote " + p));
            r.skipped().forEach(s -> System.out.println("skipped " + s));
        }
        PretrainedPlots.write(pretrained, out).forEach(p -> System.out.println("wrote " + p));
        return 0;
    }
}
