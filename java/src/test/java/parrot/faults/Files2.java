package parrot.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** File helpers of the fault suite. */
final class Files2 {
    private Files2() {
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path q : s.toList()) {
                Path t = to.resolve(from.relativize(q).toString());
                if (Files.isDirectory(q)) Files.createDirectories(t);
                else Files.copy(q, t);
            }
        }
    }
}
