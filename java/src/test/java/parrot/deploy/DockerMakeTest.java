package parrot.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** docker.mk: included by the Makefile; `make docker` / `make docker-run` print the expected commands (make -n). */
class DockerMakeTest {
    @Test
    void theMakefileIncludesDockerMk() {
        assertTrue(DeployFiles.read("Makefile").lines().anyMatch(l -> l.equals("-include docker.mk")));
        assertTrue(DeployFiles.makeTargets().containsAll(java.util.List.of("docker", "docker-run")));
    }

    @Test
    void dockerBuildsTheVersionedImageAndDockerRunTrainsOnAllGpusIntoRuns() throws Exception {
        String out = dryRun("docker", "docker-run", "CONFIG=experiments/quickstart.json", "ARGS=--set train.steps=3");
        String v = DeployFiles.pomVersion();
        assertTrue(out.contains("docker build -f docker/Dockerfile -t parrot:" + v), out);
        assertTrue(out.contains("--build-arg PARROT_VERSION=" + v), out);
        String run = out.lines().dropWhile(l -> !l.startsWith("docker run")).reduce("", (a, b) -> a + " " + b);
        assertTrue(run.contains("--gpus all"), run);
        assertTrue(run.contains("--stop-timeout"), "docker stop's default 10 s is too short for a checkpoint: " + run);
        assertTrue(run.contains(DeployFiles.root().resolve("runs") + ":/work/runs\""), run);
        assertTrue(run.contains("parrot:" + v + " train --config /work/config/quickstart.json --set train.steps=3"), run);
    }

    static String dryRun(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "make";
        cmd[1] = "-n";
        System.arraycopy(args, 0, cmd, 2, args.length);
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(DeployFiles.root().toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "make is not installed");
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
