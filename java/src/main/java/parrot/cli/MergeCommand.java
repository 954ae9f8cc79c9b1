package parrot.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import parrot.results.ResultTable;
import parrot.results.ResultsIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Combine result JSON (files, folders searched for result.json, earlier tables) into one table JSON: "
                + "'runs' holds every result as written, 'rows' one row per run, evaluated task and length (with 95% Wilson "
                + "intervals), 'aggregates' one row per model and length across seeds (mean, min, max, each seed; runs of one "
                + "model that differ in more than seed are refused), 'examples_to_90' the training examples each model needed "
                + "to reach 90% string accuracy at its eval_every probe lengths.")
final class MergeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "result files or folders (e.g. shards' output folders)")
    List<Path> inputs;

    @Option(names = "--out", required = true, description = "the table JSON to write")
    Path out;

    @Override
    public Integer call() {
        ObjectNode t = ResultTable.merge(inputs);
        if (t.get("runs").isEmpty()) throw new IllegalArgumentException("no parrot.run/1 result found in " + inputs);
        ResultsIO.write(out, t);
        System.out.printf("%d runs, %d rows, %d seed aggregates -> %s%n", t.get("runs").size(), t.get("rows").size(),
                t.get("aggregates").size(), out);
        for (var e : t.get("examples_to_90"))
            System.out.printf("examples to 90%% string accuracy (probe %s): %s/%s %s%n", e.get("probe").asText(),
                    e.get("experiment").asText(), e.get("model").asText(), e.get("summary").asText());
        return 0;
    }
}
