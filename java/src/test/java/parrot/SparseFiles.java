package parrot;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Files over 2 GiB for tests without 2 GiB of writes: holes that the file system stores as nothing. Where it cannot
 * (or `stat` cannot tell), the test is skipped by a JUnit assumption before anything large is written.
 */
public final class SparseFiles {
    private SparseFiles() {
    }

    /** Skips the calling test unless a file in {@code dir} with a 64 MiB hole takes (almost) no disk space. */
    public static void assumeSparse(Path dir) throws IOException {
        Path probe = dir.resolve("sparse-probe");
        try (RandomAccessFile raf = new RandomAccessFile(probe.toFile(), "rw")) {
            raf.seek(64L << 20);
            raf.write(1);
        }
        long used = allocatedBytes(probe);
        Files.delete(probe);
        assumeTrue(used >= 0 && used < 8L << 20,
                () -> dir + ": the file system does not keep holes in sparse files (a 64 MiB hole took " + used
                        + " bytes): SKIPPED, it would write over 2 GiB");
    }

    /** Bytes the file occupies on disk (stat's blocks × block size), or -1 if stat cannot say. */
    static long allocatedBytes(Path f) {
        try {
            Process p = new ProcessBuilder("stat", "-c", "%b %B", f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) return -1;
            String[] parts = out.split("\\s+");
            return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
        } catch (IOException | NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
