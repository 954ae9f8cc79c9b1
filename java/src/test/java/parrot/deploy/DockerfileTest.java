package parrot.deploy;

import org.junit.jupiter.api.Test;
import parrot.deploy.DeployFiles.Instruction;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docker/Dockerfile, parsed: a CUDA devel build stage running the README's make targets, a runtime stage on the
 * matching CUDA runtime image, pinned base images, the launcher under tini, results on the /work/runs volume.
 * (The image itself is built by `make docker` where a Docker engine runs; nothing here builds it.)
 */
class DockerfileTest {
    static final String DOCKERFILE = "docker/Dockerfile";
    static final Pattern CUDA_IMAGE = Pattern.compile("nvidia/cuda:(\\d+)\\.(\\d+)\\.(\\d+)-(devel|runtime|base)-(ubuntu[\\d.]+)");

    record Stage(String image, String alias, List<Instruction> body) {
    }

    static List<Instruction> instructions() {
        return DeployFiles.dockerfile(DOCKERFILE);
    }

    static List<Stage> stages() {
        List<Instruction> ins = instructions();
        Map<String, String> args = DeployFiles.globalArgs(ins);
        List<Stage> stages = new ArrayList<>();
        for (Instruction i : ins) {
            if (i.keyword().equals("FROM")) {
                String[] w = DeployFiles.substitute(i.args(), args).split("\\s+");
                List<String> words = new ArrayList<>();
                for (String x : w) if (!x.startsWith("--")) words.add(x);   // --platform=...
                String alias = words.size() >= 3 && words.get(1).equalsIgnoreCase("AS") ? words.get(2) : null;
                stages.add(new Stage(words.get(0), alias, new ArrayList<>()));
            } else if (!stages.isEmpty()) {
                stages.get(stages.size() - 1).body().add(i);
            }
        }
        return stages;
    }

    static List<String> makeInvocations(Stage s) {
        List<String> targets = new ArrayList<>();
        for (Instruction i : s.body())
            if (i.keyword().equals("RUN"))
                for (List<String> cmd : DeployFiles.shellCommands(i.args().replaceFirst("^(--\\S+\\s+)+", "")))
                    if (cmd.get(0).equals("make"))
                        for (String w : cmd.subList(1, cmd.size()))
                            if (!w.startsWith("-") && !w.contains("=")) targets.add(w);
        return targets;
    }

    static Stage buildStage() {
        for (Stage s : stages()) if (s.image().matches(".*nvidia/cuda:.*-devel-.*")) return s;
        return fail("no build stage FROM nvidia/cuda:<version>-devel-<ubuntu> in " + DOCKERFILE);
    }

    static Stage runtimeStage() {
        List<Stage> st = stages();
        return st.get(st.size() - 1);
    }

    @Test
    void multiStageFromCudaDevelToTheMatchingCudaRuntime() {
        assertTrue(stages().size() >= 2, "multi-stage: " + stages());
        Matcher dev = CUDA_IMAGE.matcher(buildStage().image());
        Matcher run = CUDA_IMAGE.matcher(runtimeStage().image());
        assertTrue(dev.matches(), buildStage().image());
        assertTrue(run.matches(), "the final stage must be an nvidia/cuda runtime image: " + runtimeStage().image());
        assertEquals("devel", dev.group(4));
        // runtime, not base: JCublas needs libcublas.so.12, which only the runtime (and devel) images carry.
        assertEquals("runtime", run.group(4), runtimeStage().image());
        for (int g : new int[]{1, 2, 3, 5})
            assertEquals(dev.group(g), run.group(g), "devel and runtime images differ: " + buildStage().image() + " vs " + runtimeStage().image());
        int major = Integer.parseInt(dev.group(1)), minor = Integer.parseInt(dev.group(2));
        assertTrue(major == 12 || major == 13 && minor == 0, "CUDA 12.x or 13.0: " + dev.group());
        // The CUDA the image carries is the one JCuda/JCublas are built for (libcublas.so.<major>).
        String[] jcuda = DeployFiles.pomProperty("jcuda.version").split("\\.");
        assertEquals(jcuda[0] + "." + jcuda[1], major + "." + minor, "the CUDA image version must match jcuda.version in pom.xml");
        assertTrue(dev.group(5).startsWith("ubuntu"), dev.group());
    }

    @Test
    void baseImagesArePinnedByVersionTag() {
        List<Instruction> ins = instructions();
        Map<String, String> args = DeployFiles.globalArgs(ins);
        Set<String> aliases = new HashSet<>();
        List<String> images = new ArrayList<>();
        for (Stage s : stages()) {
            if (!aliases.contains(s.image())) images.add(s.image());
            if (s.alias() != null) aliases.add(s.alias());
        }
        for (Instruction i : ins)
            if (i.keyword().equals("COPY") || i.keyword().equals("ADD")) {
                Matcher m = Pattern.compile("--from=(\\S+)").matcher(i.args());
                if (m.find()) {
                    String from = DeployFiles.substitute(m.group(1), args);
                    if (!aliases.contains(from) && !from.matches("\\d+")) images.add(from);
                }
            }
        assertTrue(images.size() >= 2, images.toString());
        for (String image : images) {
            assertFalse(image.contains("$"), "unresolved build argument in " + image);
            assertFalse(image.contains("@sha256:") && !image.substring(0, image.indexOf('@')).contains(":"),
                    "pin by version tag (a digest may be added): " + image);
            String name = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
            int colon = name.lastIndexOf(':');
            assertTrue(colon > name.lastIndexOf('/'), "no tag: " + image);
            String tag = name.substring(colon + 1);
            assertFalse(tag.equals("latest") || tag.contains("latest"), "not latest: " + image);
            assertTrue(tag.matches("\\d+(\\.\\d+)+.*"), "the tag must start with a full version (x.y[.z]): " + image);
        }
    }

    @Test
    void theBuildStageRunsTheReadmeMakeTargets() {
        List<String> made = makeInvocations(buildStage());
        assertTrue(made.contains("kernels") && made.contains("build"), "the build stage must run `make kernels` and `make build`: " + made);
        assertTrue(made.indexOf("kernels") < made.indexOf("build"), "kernels before build, so the jar carries the PTX: " + made);
        Set<String> defined = DeployFiles.makeTargets();
        Set<String> documented = DeployFiles.readmeMakeTargets();
        for (String t : made) {
            assertTrue(defined.contains(t), "`make " + t + "` in " + DOCKERFILE + " is no target of Makefile/*.mk: " + defined);
            assertTrue(documented.contains(t), "`make " + t + "` in " + DOCKERFILE + " is not in README.md: " + documented);
        }
        Stage build = buildStage();
        for (Stage s : stages())
            if (!s.equals(build)) assertTrue(makeInvocations(s).isEmpty(), "make only in the build stage: " + s.image());
    }

    @Test
    void entrypointIsTheParrotLauncherUnderTini() {
        Stage rt = runtimeStage();
        Instruction ep = null;
        for (Instruction i : rt.body()) if (i.keyword().equals("ENTRYPOINT")) ep = i;
        assertNotNull(ep, "the runtime stage has no ENTRYPOINT");
        assertTrue(ep.args().startsWith("["), "exec form, so no shell sits between tini and the JVM: " + ep.args());
        List<String> argv = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(ep.args());
        while (m.find()) argv.add(m.group(1));
        assertTrue(argv.get(0).endsWith("/tini") && argv.contains("--"), "tini forwards SIGTERM to the JVM: " + argv);
        String launcher = argv.get(argv.size() - 1);
        assertTrue(launcher.endsWith("/parrot"), argv.toString());
        String runs = String.join("\n", rt.body().stream().filter(i -> i.keyword().equals("RUN")).map(Instruction::args).toList());
        assertTrue(runs.contains("tini"), "the runtime stage installs tini");
        // The launcher is the bundle's bin/parrot (scripts/parrot-launcher.sh, copied there by bundle.mk) ...
        assertTrue(runs.contains("ln -s /opt/parrot/bin/parrot " + launcher), "the entrypoint links to the bundle's bin/parrot");
        assertTrue(DeployFiles.read("bundle.mk").contains("cp scripts/parrot-launcher.sh $(BUNDLE_DIR)/bin/parrot"));
        // ... which execs the bundled java with the Vector API module on the fat jar.
        String exec = DeployFiles.read("scripts/parrot-launcher.sh").lines().filter(l -> l.startsWith("exec ")).findFirst().orElse("");
        assertTrue(exec.contains("--add-modules jdk.incubator.vector") && exec.contains("-jar") && exec.contains("parrot.jar")
                && exec.endsWith("\"$@\""), "launcher: " + exec);
    }

    @Test
    void resultsGoToTheRunsVolume() {
        Stage rt = runtimeStage();
        String workdir = null, volume = null, stop = null;
        for (Instruction i : rt.body()) {
            switch (i.keyword()) {
                case "WORKDIR" -> workdir = i.args();
                case "VOLUME" -> volume = i.args();
                case "STOPSIGNAL" -> stop = i.args();
                default -> {
                }
            }
        }
        assertEquals("/work", workdir);
        assertNotNull(volume);
        assertTrue(volume.contains("/work/runs"), volume);
        assertTrue(stop == null || stop.equals("SIGTERM") || stop.equals("15"), stop);
    }

    @Test
    void dockerignoreKeepsBuildOutputsOutAndTheSourcesIn() {
        Set<String> patterns = new HashSet<>();
        for (String l : DeployFiles.read(".dockerignore").split("\n"))
            if (!l.isBlank() && !l.strip().startsWith("#")) patterns.add(l.strip().replaceAll("/$", ""));
        for (String out : List.of(".git", "target", "build", "dist", "runs"))
            assertTrue(patterns.contains(out), ".dockerignore must exclude " + out + ": " + patterns);
        for (Instruction i : instructions()) {
            if (!i.keyword().equals("COPY") || i.args().contains("--from")) continue;
            String[] w = i.args().split("\\s+");
            for (int k = 0; k < w.length - 1; k++) {
                String src = w[k].replaceAll("/$", "");
                for (String p : patterns)
                    assertFalse(src.equals(p) || src.startsWith(p + "/"), ".dockerignore drops " + src + ", which the Dockerfile copies");
            }
        }
    }
}
