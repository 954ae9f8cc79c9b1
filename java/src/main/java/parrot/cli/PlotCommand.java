package parrot.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import parrot.results.Plots;
import parrot.results.ResultTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "PNG figures like the paper's from result JSON (files, folders, merged tables): accuracy against "
                + "training examples seen, against length (training range shaded), against n for duplicated n-grams, "
                + "the lookup panels, and capacity against the bound when runs carry state_bits.")
final class PlotCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RESULTS", description = "result files, folders or merged tables")
    List<Path> inputs;

    @Option(names = "--out", required = true, description = "folder for the PNGs")
    Path out;

    @Override
    public Integer call() {
        List<ObjectNode> runs = ResultTable.collect(inputs);
        if (runs.isEmpty()) throw new IllegalArgumentException("no parrot.run/1 result found in " + inputs);
        Plots.Report r = Plots.write(runs, out);
        r.written().forEach(p -> System.out.println("wrote " + p));
        r.skipped().forEach(s -> System.out.println("skipped " + s));
        return 0;
    }
}
