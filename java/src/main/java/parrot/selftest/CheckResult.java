package parrot.selftest;

/**
 * One parity check: an op (or a whole training step) on the candidate backend against the reference.
 * status is PASSED, FAILED or SKIPPED — a check that did not run is never reported as passed. seconds is its wall
 * time (on the emulated device that is the emulator's, not a GPU's).
 */
public record CheckResult(String name, String status, double maxRelativeError, double tolerance, String detail,
                          double seconds) {
    public static CheckResult skipped(String name, String why) {
        return new CheckResult(name, "SKIPPED", Double.NaN, Double.NaN, why, 0);
    }

    public boolean passed() {
        return status.equals("PASSED");
    }

    public boolean failed() {
        return status.equals("FAILED");
    }
}
