package parrot.faults;

import parrot.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Runs the CLI in-process (Main.run, the entry point of the jar) with stdout and stderr captured, and judges
 * the outcome the way a user sees it: exit 0, a refusal of exactly one "parrot: ..." line, or a stack trace
 * (a Java frame, an exception type name, "parrot: null", an internal error, or a throwable escaping Main.run).
 */
final class Cli {
    /** What one invocation printed and returned. */
    record Outcome(List<String> args, int code, String out, String err, Throwable escaped) {
        /** A stack trace or anything like one, anywhere in the output. */
        boolean trace() {
            return escaped != null || TRACE.matcher(out).find() || TRACE.matcher(err).find();
        }

        /** The "parrot: ..." lines of stderr (the other stderr lines are log lines with a timestamp). */
        List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("parrot:")).toList();
        }

        /** Refused as a user should be: non-zero exit, exactly one one-line message with words in it. */
        boolean refusedInOneLine() {
            List<String> e = errorLines();
            return code != 0 && e.size() == 1 && e.get(0).length() > "parrot: ".length() + 8;
        }

        String describe() {
            return args + " -> exit " + code + (escaped != null ? ", escaped " + escaped : "") + "\n--- stderr\n"
                    + tail(err) + "\n--- stdout\n" + tail(out);
        }

        private static String tail(String s) {
            return s.length() > 3000 ? "..." + s.substring(s.length() - 3000) : s;
        }
    }

    /** Java frames, exception class names, "parrot: null", internal errors. */
    static final Pattern TRACE = Pattern.compile(
            "(?m)^\\s+at [\\w$.]+\\(|\\bat parrot\\.|Exception\\b|\\bjava\\.(lang|io|nio|util)\\.[A-Z]|parrot: null\\b|internal error|Caused by:");

    private Cli() {
    }

    static synchronized Outcome run(List<String> args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = -1;
        Throwable escaped = null;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
             PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            try {
                code = Main.run(args.toArray(String[]::new));
            } catch (Throwable t) {
                escaped = t;
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Outcome(List.copyOf(args), code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8), escaped);
    }
}
