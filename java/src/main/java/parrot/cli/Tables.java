package parrot.cli;

import parrot.eval.LengthResult;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Plain-text accuracy tables: one row per length, one column per model. */
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
        for (String m : idx.keySet()) head.append(String.format("  %14s", m));
        out.println("string accuracy (exact match of greedy decoding; char accuracy in brackets)");
        out.println(head);
        for (int len : lengths) {
            StringBuilder row = new StringBuilder(String.format("%6d%s", len, len <= trainMax ? " *" : "  "));
            for (Map<Integer, LengthResult> mm : idx.values()) {
                LengthResult r = mm.get(len);
                row.append(r == null ? String.format("  %14s", "-")
                        : String.format("  %5.2f (%5.2f)", r.stringAccuracy(), r.charAccuracy()));
            }
            out.println(row);
        }
        if (trainMax > 0) out.println("* within the training lengths");
    }
}
