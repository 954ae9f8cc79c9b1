package parrot.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The parrot command line: one subcommand per job. */
@Command(name = "parrot", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train and evaluate transformers, Mamba and LSTM models on copying tasks "
                + "(Jelassi et al., Repeat After Me, ICML 2024).",
        subcommands = {TrainCommand.class, EvalCommand.class, SweepCommand.class, MergeCommand.class, PlotCommand.class,
                BenchCommand.class, SelfTestCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Bad input is a one-line message, not a stack trace.
            cmd.getErr().println("parrot: " + ex.getMessage());
            if (System.getenv("PARROT_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl.execute(args);
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
