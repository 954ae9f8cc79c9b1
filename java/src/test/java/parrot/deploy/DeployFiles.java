package parrot.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deployment files (docker/, the makefiles, README) read from the repository checkout. */
final class DeployFiles {
    private DeployFiles() {
    }

    /** The repository root: the nearest directory upwards from the working directory with pom.xml and docker/. */
    static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("docker"))) return p;
        throw new IllegalStateException("no repository root (pom.xml + docker/) above " + Path.of("").toAbsolutePath());
    }

    static String read(String relative) {
        Path p = root().resolve(relative);
        assertTrue(Files.isRegularFile(p), relative + " is missing");
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode yaml(String relative) {
        try {
            return new YAMLMapper().readTree(read(relative));
        } catch (IOException e) {
            throw new AssertionError(relative + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    /** The project version from pom.xml (the first <version>, the project's own). */
    static String pomVersion() {
        return pomTag("version");
    }

    static String pomProperty(String name) {
        return pomTag(name);
    }

    private static String pomTag(String tag) {
        Matcher m = Pattern.compile("<" + Pattern.quote(tag) + ">([^<]+)</" + Pattern.quote(tag) + ">").matcher(read("pom.xml"));
        assertTrue(m.find(), "pom.xml has no <" + tag + ">");
        return m.group(1).trim();
    }

    private static final Pattern RULE = Pattern.compile("^([^\\s:#=][^:=]*?)\\s*::?(?!=)");
    private static final Pattern PHONY = Pattern.compile("^\\.PHONY\\s*:(.*)$");

    /** Every explicit target of the Makefile and the .mk files it includes (both branches of ifeq). */
    static Set<String> makeTargets() {
        Set<String> targets = new LinkedHashSet<>();
        List<String> files = new ArrayList<>(List.of("Makefile"));
        Matcher inc = Pattern.compile("(?m)^-?include\\s+(\\S+)").matcher(read("Makefile"));
        while (inc.find()) files.add(inc.group(1));
        for (String f : files) {
            if (!Files.isRegularFile(root().resolve(f))) continue;
            for (String line : read(f).split("\n")) {
                if (line.startsWith("\t")) continue;
                Matcher ph = PHONY.matcher(line);
                if (ph.find()) {
                    for (String t : ph.group(1).trim().split("\\s+")) if (!t.isEmpty()) targets.add(t);
                    continue;
                }
                Matcher m = RULE.matcher(line);
                if (m.find()) for (String t : m.group(1).trim().split("\\s+")) targets.add(t);
            }
        }
        return targets;
    }

    /** The targets of every `make ...` the README shows, in inline code or in code blocks. */
    static Set<String> readmeMakeTargets() {
        Set<String> targets = new LinkedHashSet<>();
        Pattern inline = Pattern.compile("`make((?:\\s+[A-Za-z][\\w.-]*(?:=\\S*)?)+)");
        Pattern block = Pattern.compile("^\\s*make((?:\\s+[A-Za-z][\\w.-]*(?:=\\S*)?)+)");
        boolean inBlock = false;
        for (String line : read("README.md").split("\n")) {
            if (line.startsWith("```")) {
                inBlock = !inBlock;
                continue;
            }
            Matcher m = (inBlock ? block : inline).matcher(line);
            while (m.find())
                for (String t : m.group(1).trim().split("\\s+"))
                    if (!t.contains("=")) targets.add(t);
        }
        return targets;
    }

    /** A Dockerfile instruction: keyword (upper case) and its arguments, continuation lines joined. */
    record Instruction(String keyword, String args, int line) {
    }

    static List<Instruction> dockerfile(String relative) {
        List<Instruction> out = new ArrayList<>();
        String[] lines = read(relative).split("\n", -1);
        StringBuilder cur = null;
        int start = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (cur == null && trimmed.isEmpty())) continue;   // comments, directives
            if (cur == null) {
                cur = new StringBuilder();
                start = i + 1;
            }
            boolean more = trimmed.endsWith("\\");
            cur.append(more ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!more) {
                String s = cur.toString().strip();
                int sp = s.indexOf(' ');
                out.add(new Instruction((sp < 0 ? s : s.substring(0, sp)).toUpperCase(), sp < 0 ? "" : s.substring(sp + 1).strip(), start));
                cur = null;
            }
        }
        return out;
    }

    /** ARG NAME=default before the first FROM (what FROM lines may use). */
    static Map<String, String> globalArgs(List<Instruction> ins) {
        Map<String, String> args = new LinkedHashMap<>();
        for (Instruction i : ins) {
            if (i.keyword().equals("FROM")) break;
            if (i.keyword().equals("ARG")) {
                String[] kv = i.args().split("=", 2);
                args.put(kv[0].strip(), kv.length > 1 ? unquote(kv[1].strip()) : "");
            }
        }
        return args;
    }

    static String substitute(String s, Map<String, String> args) {
        Matcher m = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)").matcher(s);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            m.appendReplacement(b, Matcher.quoteReplacement(args.getOrDefault(name, m.group())));
        }
        return m.appendTail(b).toString();
    }

    static String unquote(String s) {
        return s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))
                ? s.substring(1, s.length() - 1) : s;
    }

    /** The simple commands of a shell line: split on &&, ||, ;, | (outside quotes is good enough here). */
    static List<List<String>> shellCommands(String line) {
        List<List<String>> out = new ArrayList<>();
        for (String part : line.split("&&|\\|\\||;|\\|")) {
            List<String> words = new ArrayList<>();
            for (String w : part.strip().split("\\s+")) if (!w.isEmpty()) words.add(w);
            if (!words.isEmpty()) out.add(words);
        }
        return out;
    }
}
