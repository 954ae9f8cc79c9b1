package parrot.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Output paths checked before any work starts, so that a run does not train for an hour and then fail to write
 * its result: a folder must be a folder (or creatable), a file must not be a folder, and both must be writable.
 */
final class Outputs {
    private Outputs() {
    }

    /** A folder to write into: created if missing. */
    static void checkFolder(String option, Path dir) {
        Path d = dir.toAbsolutePath();
        if (Files.exists(d) && !Files.isDirectory(d))
            throw new IllegalArgumentException(option + ": " + dir + " is a file, not a folder");
        try {
            Files.createDirectories(d);
        } catch (java.io.IOException | SecurityException e) {
            throw new IllegalArgumentException(option + ": cannot create folder " + dir + ": " + parrot.errors.ErrorText.of(e));
        }
        if (!Files.isWritable(d)) throw new IllegalArgumentException(option + ": folder " + dir + " is not writable");
    }

    /** A file to write: not a folder, its folder creatable and writable. */
    static void checkFile(String option, Path file) {
        Path f = file.toAbsolutePath();
        if (Files.isDirectory(f)) throw new IllegalArgumentException(option + ": " + file + " is a folder, not a file");
        if (f.getFileName().toString().length() > 255)
            throw new IllegalArgumentException(option + ": file name longer than 255 characters");
        checkFolder(option, f.getParent());
        if (Files.exists(f) && !Files.isWritable(f)) throw new IllegalArgumentException(option + ": " + file + " is not writable");
    }
}
