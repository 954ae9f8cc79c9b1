package parrot.errors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonMappingException;

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
import java.util.regex.Pattern;

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
            m = JACKSON_CLASS.matcher(m).replaceAll("");
            m = JACKSON_TOKEN.matcher(m).replaceAll("");
            m = JAVA_TYPE.matcher(m).replaceAll(r -> typeInWords(r.group(1)));
            JsonLocation at = j.getLocation();
            String field = j instanceof JsonMappingException jm ? fieldPath(jm) : "";
            return "malformed JSON" + (at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr()
                    + ", column " + at.getColumnNr()) + (field.isEmpty() ? "" : ", field " + field) + ": " + firstLine(m);
        }
        if (t instanceof UncheckedIOException && t.getCause() != null && t.getMessage() != null
                && t.getMessage().equals(t.getCause().toString())) return null;
        String m = t.getMessage();
        if (m == null || m.isBlank()) return null;
        if (t.getCause() != null && m.equals(t.getCause().toString())) return null;
        if (t instanceof NumberFormatException) return "not a number: " + m.replaceFirst("^For input string: ", "");
        return m;
    }

    // Jackson names Java types in backticks, generics and arrays included (`java.util.ArrayList<parrot.results.LossPoint>`),
    // adds "(class ...)" and "(token `JsonToken.VALUE_STRING`)": a user needs the JSON kind, not the Java one.
    private static final Pattern JACKSON_CLASS = Pattern.compile("\\s*\\(class [^)]*\\)");
    private static final Pattern JACKSON_TOKEN = Pattern.compile("\\s*\\(token `[^`]*`\\)");
    private static final Pattern JAVA_TYPE = Pattern.compile("`([A-Za-z_$][\\w$.]*(?:<[^`]*>)?(?:\\[\\])*)`");

    /** A Java type as the JSON a user would have to write for it. */
    static String typeInWords(String type) {
        if (type.endsWith("[]")) return "a list";
        String raw = type.replaceFirst("<.*$", "");
        String simple = raw.substring(raw.lastIndexOf('.') + 1);
        return switch (simple) {
            case "List", "ArrayList", "Collection", "Set", "LinkedHashSet", "HashSet" -> "a list";
            case "Map", "HashMap", "LinkedHashMap", "TreeMap", "ObjectNode" -> "an object";
            case "String", "Character", "char" -> "a string";
            case "Integer", "int", "Long", "long", "Short", "short", "Byte", "byte" -> "a whole number";
            case "Double", "double", "Float", "float", "Number", "BigDecimal" -> "a number";
            case "Boolean", "boolean" -> "true or false";
            default -> "an object";
        };
    }

    /** The JSON path Jackson was at ("loss_curve", "models[2].d_model"), or "" at the top. */
    private static String fieldPath(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            else if (r.getIndex() >= 0) sb.append('[').append(r.getIndex()).append(']');
        }
        return sb.toString();
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
