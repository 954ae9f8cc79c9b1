package parrot.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Runs everywhere: parsing, and a decision with a reason whether or not this machine has a driver. */
class DeviceSelectorTest {

    @Test
    void parsesDeviceStrings() {
        assertEquals(new DeviceSelector.Request(DeviceSelector.Request.Mode.AUTO, 0), DeviceSelector.parse("auto"));
        assertEquals(new DeviceSelector.Request(DeviceSelector.Request.Mode.CPU, -1), DeviceSelector.parse("CPU"));
        assertEquals(new DeviceSelector.Request(DeviceSelector.Request.Mode.CUDA, 0), DeviceSelector.parse("cuda"));
        assertEquals(new DeviceSelector.Request(DeviceSelector.Request.Mode.CUDA, 3), DeviceSelector.parse(" cuda:3 "));
        assertThrows(IllegalArgumentException.class, () -> DeviceSelector.parse("gpu"));
        assertThrows(IllegalArgumentException.class, () -> DeviceSelector.parse("cuda:"));
        assertThrows(IllegalArgumentException.class, () -> DeviceSelector.parse("cuda:-1"));
    }

    @Test
    void cpuNeedsNoProbe() {
        DeviceChoice c = DeviceSelector.choose("cpu");
        assertTrue(c.isCpu());
        assertEquals("cpu", c.label());
    }

    @Test
    void autoNeverThrowsAndSaysWhy() {
        DeviceChoice c = DeviceSelector.choose("auto");
        assertNotNull(c.reason());
        assertFalse(c.reason().isBlank());
        if (DeviceSelector.cudaAvailable()) {
            assertTrue(c.isCuda(), c.reason());
        } else {
            assertTrue(c.isCpu(), c.reason());
            assertTrue(c.reason().endsWith(": using CPU"), c.reason());
        }
    }

    @Test
    void explicitCudaWithoutDeviceIsUnavailableNotAnException() {
        DeviceChoice c = DeviceSelector.choose("cuda:7");
        if (DeviceSelector.probe().gpus().size() > 7) return;
        assertEquals(DeviceChoice.Kind.UNAVAILABLE, c.kind());
        assertTrue(c.reason().startsWith("cuda:7 requested but unavailable: "), c.reason());
        assertThrows(IllegalStateException.class, c::orThrow);
    }

    @Test
    void loadFailuresBecomeReasons() {
        assertEquals("no libcuda.so.1", DeviceSelector.describeLoadFailure(
                new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file: No such file or directory")));
        assertTrue(DeviceSelector.describeLoadFailure(new NoClassDefFoundError("jcuda/driver/JCudaDriver"))
                .startsWith("CUDA driver library could not be loaded"));
    }

    @Test
    void archFollowsComputeCapability() {
        assertEquals("sm_80", PtxResources.archFor(9, 0));     // compute_80 PTX, JIT-compiled for the card
        assertEquals("sm_80", PtxResources.archFor(12, 0));
        assertEquals("sm_80", PtxResources.archFor(8, 9));
        assertEquals("sm_80", PtxResources.archFor(8, 0));
        assertEquals(null, PtxResources.archFor(7, 5));
    }
}
