package parrot.errors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An exception as the one line a user reads: every message of its cause chain, outermost first, each said in
 * words (file-system errors name the problem and the path, Jackson's errors lose their source dump and Java
 * type names), repeated text dropped. An exception that carries no words of its own is a bug in parrot, and
 * says so ("internal error ...") rather than printing "null".
 */
public final class ErrorText {
    private ErrorText() {
    }

    /** The whole cause chain in one line. */
    public static String of(Throwable e) {
        List<String> parts = new ArrayList<>();
        Set<Throwable> seen = new LinkedHashSet<>();
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            String s = words(t);
            if (s == null) continue;
            String joined = String.join(": ", parts);
            if (joined.contains(s)) continue;                          // the wrapper already said it
            parts.add(s);
        }
        if (parts.isEmpty()) return internal(e);
        return oneLine(String.join(": ", parts));
    }

    /** One throwable's own words, or null when it has none (only a type, or the cause's toString). */
    static String words(Throwable t) {
        if (t instanceof NoSuchFileException f) return "no such file or folder: " + f.getFile();
        if (t instanceof AccessDeniedException f) return "permission denied: " + f.getFile();
        if (t instanceof FileAlreadyExistsException f) return "already exists: " + f.getFile();
        if (t instanceof NotDirectoryException f) return "not a folder: " + f.getFile();
        if (t instanceof DirectoryNotEmptyException f) return "folder not empty: " + f.getFile();
        if (t instanceof FileSystemException f)
            return (f.getReason() != null ? f.getReason() : "file system error") + (f.getFile() != null ? ": " + f.getFile() : "");
        if (t instanceof JacksonException j) {
            String m = j.getOriginalMessage();
            if (m == null) return "malformed JSON";
            m = m.replaceAll("\\(class [^)]*\\)", "").replaceAll("`[a-z]+(\\.[A-Za-z0-9_$]+)+`", "value");
            JsonLocation at = j.getLocation();
            return "malformed JSON" + (at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr()
                    + ", column " + at.getColumnNr()) + ": " + firstLine(m);
        }
        if (t instanceof UncheckedIOException && t.getCause() != null && t.getMessage() != null
                && t.getMessage().equals(t.getCause().toString())) return null;
        String m = t.getMessage();
        if (m == null || m.isBlank()) return null;
        if (t.getCause() != null && m.equals(t.getCause().toString())) return null;
        if (t instanceof NumberFormatException) return "not a number: " + m.replaceFirst("^For input string: ", "");
        return m;
    }

    private static String internal(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        StackTraceElement[] st = root.getStackTrace();
        String where = st.length == 0 ? "" : " in " + st[0].getClassName().replaceFirst("^.*\\.", "") + "." + st[0].getMethodName();
        return "internal error (" + root.getClass().getSimpleName() + where + "); this is a bug in parrot, please report it "
                + "(PARROT_DEBUG=1 prints the trace)";
    }

    private static String firstLine(String s) {
        return s.lines().findFirst().orElse("").strip();
    }

    /** Newlines and runs of spaces folded: a message is one line. */
    public static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
