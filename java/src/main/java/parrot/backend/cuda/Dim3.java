package parrot.backend.cuda;

/**
 * A CUDA grid or block shape. An empty one (a 0) is refused at the launch, by {@link Device#checkShape}, so that
 * the message names the kernel whose launcher computed it; only a negative size is refused here.
 */
record Dim3(int x, int y, int z) {
    Dim3 {
        if (x < 0 || y < 0 || z < 0) throw new IllegalArgumentException("negative launch dimension " + x + "x" + y + "x" + z);
    }

    boolean empty() {
        return x == 0 || y == 0 || z == 0;
    }

    static Dim3 of(int x) {
        return new Dim3(x, 1, 1);
    }

    static Dim3 of(int x, int y) {
        return new Dim3(x, y, 1);
    }

    /** ceil(n / d) as a grid size, at least 1. */
    static int blocks(long n, int d) {
        long b = (n + d - 1) / d;
        if (b > Integer.MAX_VALUE) throw new IllegalArgumentException("grid too large: " + b + " blocks");
        return (int) Math.max(1, b);
    }

    @Override
    public String toString() {
        return "(" + x + "," + y + "," + z + ")";
    }
}
