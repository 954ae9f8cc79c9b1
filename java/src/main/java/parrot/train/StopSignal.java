package parrot.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * SIGTERM (a cluster pre-empting the job) and SIGINT (Ctrl-C) ask the training loop to stop at the next step
 * boundary: it writes a checkpoint and returns, and {@code parrot train --resume} continues from there. A second
 * signal exits at once (the atomic checkpoint swap makes that safe). Handlers use sun.misc.Signal (module
 * jdk.unsupported, present in every JDK); where a signal cannot be handled the JVM's default stays.
 */
public final class StopSignal implements BooleanSupplier, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StopSignal.class);

    private volatile String signal;
    private final List<Object[]> previous = new ArrayList<>(); // {sun.misc.Signal, sun.misc.SignalHandler}

    private StopSignal() {
    }

    /** A stop flag only set by {@link #request} (tests, embedding). */
    public static StopSignal manual() {
        return new StopSignal();
    }

    /** Installs the TERM and INT handlers until {@link #close}. */
    public static StopSignal install() {
        StopSignal s = new StopSignal();
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal sig = new sun.misc.Signal(name);
                sun.misc.SignalHandler old = sun.misc.Signal.handle(sig, x -> s.onSignal(name));
                s.previous.add(new Object[]{sig, old});
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.debug("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
        return s;
    }

    private void onSignal(String name) {
        if (signal != null) {
            log.warn("second SIG{}: exiting now", name);
            System.exit(exitCode(name));
        }
        signal = name;
        log.warn("SIG{}: stopping at the end of this step, after a checkpoint (send it again to exit now)", name);
    }

    public void request(String why) {
        signal = why;
    }

    @Override
    public boolean getAsBoolean() {
        return signal != null;
    }

    /** The signal that asked to stop (TERM, INT), or null. */
    public String signal() {
        return signal;
    }

    /** 128 + the signal number, as a shell reports a process ended by it: 143 for TERM, 130 for INT. */
    public int exitCode() {
        return exitCode(signal);
    }

    private static int exitCode(String name) {
        return "INT".equals(name) ? 130 : "TERM".equals(name) ? 143 : 3;
    }

    @Override
    public void close() {
        for (Object[] p : previous) sun.misc.Signal.handle((sun.misc.Signal) p[0], (sun.misc.SignalHandler) p[1]);
        previous.clear();
    }
}
