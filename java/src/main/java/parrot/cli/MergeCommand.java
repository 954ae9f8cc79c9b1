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
                + "'runs' holds every result as written, 'rows' one row per run, evaluated task and length.")
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
        System.out.printf("%d runs, %d rows -> %s%n", t.get("runs").size(), t.get("rows").size(), out);
        return 0;
    }
}
