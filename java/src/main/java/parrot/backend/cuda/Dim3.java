package parrot.backend.cuda;

/** A CUDA grid or block shape. */
record Dim3(int x, int y, int z) {
    Dim3 {
        if (x < 1 || y < 1 || z < 1) throw new IllegalArgumentException("empty launch dimension " + x + "x" + y + "x" + z);
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
