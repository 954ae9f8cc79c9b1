package parrot.cli;

import parrot.eval.LengthResult;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Plain-text accuracy tables: one row per length, one column per model, each accuracy with its interval. */
final class Tables {
    private Tables() {
    }

    static void printAccuracy(PrintStream out, Map<String, List<LengthResult>> byModel, int trainMax) {
        TreeSet<Integer> lengths = new TreeSet<>();
        Map<String, Map<Integer, LengthResult>> idx = new LinkedHashMap<>();
        byModel.forEach((m, rs) -> {
            Map<Integer, LengthResult> mm = new LinkedHashMap<>();
            for (LengthResult r : rs) {
                mm.put(r.length(), r);
                lengths.add(r.length());
            }
            idx.put(m, mm);
        });
        StringBuilder head = new StringBuilder(String.format("%8s", "length"));
        for (String m : idx.keySet()) head.append(String.format("  %24s", m));
        int n = byModel.values().stream().flatMap(List::stream).mapToInt(LengthResult::samples).max().orElse(0);
        out.println("string accuracy (exact match of greedy decoding) [95% Wilson interval] (char accuracy); n = "
                + n + " strings a length");
        out.println(head);
        for (int len : lengths) {
            StringBuilder row = new StringBuilder(String.format("%6d%s", len, len <= trainMax ? " *" : "  "));
            for (Map<Integer, LengthResult> mm : idx.values()) {
                LengthResult r = mm.get(len);
                row.append(r == null ? String.format("  %24s", "-")
                        : String.format("  %4.2f [%4.2f, %4.2f] (%4.2f)", r.stringAccuracy(), r.stringAccuracyLo(),
                        r.stringAccuracyHi(), r.charAccuracy()));
            }
            out.println(row);
        }
        if (trainMax > 0) out.println("* within the training lengths");
    }
}
