package parrot.sweep;

import java.util.ArrayList;
import java.util.List;

/**
 * One slice of a sweep, {@code --shard i/n} with 0 ≤ i &lt; n: cell number c (in the sweep's canonical order)
 * belongs to shard {@code c mod n}. The mapping depends only on the sweep file, so the n tasks of a cluster job
 * array (SLURM_ARRAY_TASK_ID = i) together run every cell exactly once, and shard sizes differ by at most one.
 */
public record Shard(int index, int count) {
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (count < 1) throw new IllegalArgumentException("--shard: the shard count must be >= 1, got " + count);
        if (index < 0 || index >= count)
            throw new IllegalArgumentException("--shard: the index must be in 0.." + (count - 1) + " for " + count
                    + " shards, got " + index);
    }

    /** "i/n". */
    public static Shard parse(String text) {
        String[] parts = text == null ? new String[0] : text.strip().split("/", -1);
        if (parts.length != 2)
            throw new IllegalArgumentException("--shard: expected i/n (e.g. 0/4, shards counted from 0), got '" + text + "'");
        try {
            return new Shard(Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard: expected i/n with integers, got '" + text + "'");
        }
    }

    /** Which shard of {@code count} runs cell number {@code cell}. */
    public static int of(int cell, int count) {
        return Math.floorMod(cell, count);
    }

    public boolean owns(int cell) {
        return of(cell, count) == index;
    }

    /** This shard's cells, in order. */
    public <T> List<T> select(List<T> cells) {
        List<T> out = new ArrayList<>();
        for (int c = 0; c < cells.size(); c++) if (owns(c)) out.add(cells.get(c));
        return out;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
