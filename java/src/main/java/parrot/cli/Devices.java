package parrot.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;

/** Turns --device into a backend, saying what it chose and why. */
final class Devices {
    private static final Logger log = LoggerFactory.getLogger(Devices.class);

    private Devices() {
    }

    static Backend open(String device) {
        String d = device == null ? "auto" : device.trim().toLowerCase();
        if (d.equals("cpu")) {
            return cpu("--device cpu");
        }
        if (d.equals("auto")) {
            return cpu("no CUDA backend in this build: using CPU");
        }
        if (d.equals("cuda") || d.matches("cuda:\\d+")) {
            throw new IllegalArgumentException("--device " + device + ": the CUDA backend is not available in this build; use cpu or auto");
        }
        throw new IllegalArgumentException("--device: unknown '" + device + "'; allowed: auto, cpu, cuda, cuda:N");
    }

    private static Backend cpu(String why) {
        Backend be = new CpuBackend();
        log.info("device: {} ({})", be.name(), why);
        return be;
    }
}
