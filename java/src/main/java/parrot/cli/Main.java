package parrot.cli;

import parrot.errors.ErrorText;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** The parrot command line: one subcommand per job. */
@Command(name = "parrot", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train and evaluate transformers, Mamba and LSTM models on copying tasks "
                + "(Jelassi et al., Repeat After Me, ICML 2024).",
        subcommands = {TrainCommand.class, EvalCommand.class, ExportCommand.class, SweepCommand.class, MergeCommand.class, PlotCommand.class,
                BenchCommand.class, SelfTestCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        // Bad input is a one-line message with its root cause in words, never a stack trace.
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> fail(cmd.getErr(), ex));
        cl.setParameterExceptionHandler((ex, args2) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("parrot: " + ErrorText.oneLine(ex.getMessage()) + " (see: parrot "
                    + ex.getCommandLine().getCommandName() + " --help)");
            err.flush();
            return 2;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // Errors escape picocli's handler; the size checks should have refused the input before this.
            return fail(cl.getErr(), e);
        }
    }

    private static int fail(PrintWriter err, Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            Runtime rt = Runtime.getRuntime();
            err.println("parrot: out of memory (Java heap limit " + rt.maxMemory() / (1 << 20) + " MiB): make the model, batch "
                    + "or lengths smaller, or give Java more memory (java -Xmx...)");
        } else {
            err.println("parrot: " + ErrorText.of(ex));
        }
        if (System.getenv("PARROT_DEBUG") != null) ex.printStackTrace(err);
        err.flush();
        return 2;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"parrot " + BuildInfo.version()};
        }
    }
}
