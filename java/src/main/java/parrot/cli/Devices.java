package parrot.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import parrot.backend.Backend;
import parrot.backend.cpu.CpuBackend;
import parrot.backend.cuda.CudaBackend;
import parrot.backend.cuda.DeviceChoice;
import parrot.backend.cuda.DeviceSelector;

/** Turns --device into a backend, saying what it chose and why ("no libcuda.so.1: using CPU"). */
final class Devices {
    private static final Logger log = LoggerFactory.getLogger(Devices.class);

    private Devices() {
    }

    static Backend open(String device) {
        DeviceChoice choice;
        try {
            choice = DeviceSelector.choose(device).orThrow();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device: unknown '" + device + "'; allowed: auto, cpu, cuda, cuda:N");
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("--device " + device + ": " + e.getMessage());
        }
        Backend be = choice.isCuda() ? new CudaBackend(choice.ordinal()) : new CpuBackend();
        if (Evidence.emulated(be))
            log.info("device: {} ({}): the CPU implementation of the CUDA driver, not a GPU; nothing it reports is a "
                    + "GPU result", be.name(), choice.reason());
        else
            log.info("device: {} ({})", be.name(), choice.reason());
        return be;
    }
}
