package parrot.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** Version and git commit for result files. */
final class BuildInfo {
    private BuildInfo() {
    }

    static String version() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("/parrot-version.properties")) {
            Properties p = new Properties();
            if (in != null) p.load(in);
            String v = p.getProperty("version", "dev");
            return v.startsWith("${") ? "dev" : v;
        } catch (IOException e) {
            return "dev";
        }
    }

    /** The commit of the working tree (with "-dirty" if it has changes), or "unknown" outside a git checkout. */
    static String gitCommit() {
        String env = System.getenv("PARROT_GIT_COMMIT");
        if (env != null && !env.isBlank()) return env;
        try {
            String head = exec("git", "rev-parse", "HEAD");
            if (head == null) return "unknown";
            String dirty = exec("git", "status", "--porcelain", "--untracked-files=no");
            return dirty != null && !dirty.isEmpty() ? head + "-dirty" : head;
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(Path.of(".").toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
        return out;
    }
}
