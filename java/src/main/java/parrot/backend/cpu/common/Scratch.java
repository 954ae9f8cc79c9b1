package parrot.backend.cpu.common;

/**
 * Per-thread scratch rows for a kernel's temporaries, grown on demand and kept from call to call. A row is not
 * zeroed: its user writes every element it reads. Why: kernels called a few hundred times a step allocated their
 * temporaries on each call (Mamba: ~7 MB a step, 4 MB of it softplus' exp row), all zeroed by the JVM on the
 * calling thread and then collected. One instance per call site, so a kernel that calls another never shares a
 * row with it.
 */
public final class Scratch {
    private final ThreadLocal<float[][]> rows;

    /** count: the rows each thread keeps (slots 0..count−1). */
    public Scratch(int count) {
        rows = ThreadLocal.withInitial(() -> new float[count][0]);
    }

    /** This thread's row of the slot, at least size floats long; its contents are whatever the last user left. */
    public float[] get(int slot, int size) {
        float[][] r = rows.get();
        if (r[slot].length < size) r[slot] = new float[size];
        return r[slot];
    }
}
