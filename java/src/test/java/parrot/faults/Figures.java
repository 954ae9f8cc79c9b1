package parrot.faults;

import java.util.ArrayList;
import java.util.List;

/**
 * The fault suite's own counts, printed at the end of each group: inputs tried, refused with one line,
 * accepted, stack traces and wrong loads (accepted damaged data). Failures are collected with their inputs so
 * one run shows all of them.
 */
final class Figures {
    final String group;
    int tried, refused, accepted, acceptedNotRun, traces, wrongLoads, badRefusals;
    final List<String> failures = new ArrayList<>();

    Figures(String group) {
        this.group = group;
    }

    synchronized void fail(String kind, String detail) {
        if (failures.size() < 20) failures.add(kind + ": " + detail);
    }

    String line() {
        return String.format("fault suite %-22s %5d inputs: %5d refused with one line, %5d accepted%s, %d stack traces, %d wrong loads%s",
                group, tried, refused, accepted, acceptedNotRun > 0 ? " (" + acceptedNotRun + " of them by the loader only: not trained here)" : "",
                traces, wrongLoads, badRefusals > 0 ? ", " + badRefusals + " refusals not in one line" : "");
    }

    boolean clean() {
        return traces == 0 && wrongLoads == 0 && badRefusals == 0;
    }
}
