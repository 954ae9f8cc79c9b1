package parrot.backend.cpu.common;

import java.lang.management.ManagementFactory;

/**
 * Where a float array's elements fall on 64-byte cache lines, for kernels that place their scratch on line
 * boundaries. Why: Java aligns an array's elements to 8 bytes only, so where a 64-byte vector load or store falls
 * depends on where the allocator put the array, a different place in every JVM. The scan's fused backward chunk
 * (sixteen 512-bit stores and as many loads a state on AVX-512) ran 6.5-10.7 ns a vector-state step in one JVM
 * as its buffers were reallocated, about 1 ns slower for each buffer off a line boundary, so its time varied by
 * a third between runs of the same jar.
 *
 * <p>The address is read through sun.misc.Unsafe (module jdk.unsupported, present in every JDK and in the bundle's
 * runtime), as the array's reference in an Object[]. It is only a hint: the collector may move the array at any
 * time, and a kernel that uses {@link #floatsToLine} computes the same results at any offset, only slower off a
 * boundary. Where the address cannot be read, the offset is 0.
 */
public final class CacheLines {
    private static final sun.misc.Unsafe U = unsafe();
    private static final long OBJECTS = U == null ? 0 : U.arrayBaseOffset(Object[].class);
    private static final long FLOATS = U == null ? 0 : U.arrayBaseOffset(float[].class);
    /** References in an Object[] are 4 bytes with compressed oops: the address shifted right by the object alignment. */
    private static final boolean NARROW = U != null && U.arrayIndexScale(Object[].class) == 4;
    private static final int SHIFT = Integer.numberOfTrailingZeros(objectAlignment());

    private CacheLines() {
    }

    private static sun.misc.Unsafe unsafe() {
        try {
            java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (sun.misc.Unsafe) f.get(null);
        } catch (Throwable e) {
            return null;
        }
    }

    private static int objectAlignment() {
        try {
            com.sun.management.HotSpotDiagnosticMXBean vm =
                    ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue());
        } catch (Throwable e) {
            return 8;
        }
    }

    /**
     * The least k in [0, 16) such that a[k] starts a 64-byte line now (0 where that cannot be told). With compressed
     * references the heap's base, where it is not 0, is aligned far beyond 64 bytes, so the shifted reference gives
     * the address modulo 64.
     */
    public static int floatsToLine(float[] a) {
        if (U == null) return 0;
        Object[] box = {a};
        long addr = (NARROW ? (U.getInt(box, OBJECTS) & 0xffffffffL) << SHIFT : U.getLong(box, OBJECTS)) + FLOATS;
        return (int) (((64 - (addr & 63)) & 63) >> 2);
    }

    /** The float64 twin's form: its kernels take no alignment, so its offset is always 0. */
    public static int floatsToLine(double[] a) {
        return 0;
    }
}
