package parrot.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docker/k8s: the sweep as an Indexed Job (one shard per completion index, one GPU each) writing to the
 * PersistentVolumeClaim of pvc.yaml. Parsed and checked here; not applied to a cluster.
 */
class KubernetesSweepJobTest {
    static final String JOB = "docker/k8s/sweep-job.yaml";
    static final String PVC = "docker/k8s/pvc.yaml";
    static final Pattern SHARD = Pattern.compile("\\$\\(JOB_COMPLETION_INDEX\\)/(\\d+)");

    static JsonNode job() {
        JsonNode j = DeployFiles.yaml(JOB);
        assertEquals("batch/v1", j.path("apiVersion").asText());
        assertEquals("Job", j.path("kind").asText());
        return j;
    }

    static JsonNode container() {
        JsonNode cs = job().path("spec").path("template").path("spec").path("containers");
        assertEquals(1, cs.size(), "one container: " + cs);
        return cs.get(0);
    }

    static List<String> args(JsonNode c) {
        List<String> a = new ArrayList<>();
        c.path("args").forEach(n -> a.add(n.asText()));
        return a;
    }

    @Test
    void indexedJobWithOneShardPerIndex() {
        JsonNode spec = job().path("spec");
        assertEquals("Indexed", spec.path("completionMode").asText());
        int completions = spec.path("completions").asInt(-1), parallelism = spec.path("parallelism").asInt(-1);
        assertTrue(completions >= 1, spec.toString());
        assertEquals(completions, parallelism, "completions == parallelism");

        JsonNode c = container();
        assertTrue(c.path("command").isMissingNode(), "args only: the image's ENTRYPOINT (tini -- parrot) stays PID 1");
        List<String> a = args(c);
        assertEquals("sweep", a.get(0), "parrot sweep FILE --shard i/n: " + a);
        int at = a.indexOf("--shard");
        assertTrue(at == 2 && a.size() == 4, "parrot sweep FILE --shard $(JOB_COMPLETION_INDEX)/N: " + a);
        Matcher m = SHARD.matcher(a.get(at + 1));
        assertTrue(m.matches(), "the shard is the completion index: " + a.get(at + 1));
        assertEquals(completions, Integer.parseInt(m.group(1)), "the shard count in --shard must equal completions");
        // The Job controller sets JOB_COMPLETION_INDEX; a hand-written env entry would shadow it.
        c.path("env").forEach(e -> assertFalse(e.path("name").asText().equals("JOB_COMPLETION_INDEX"), e.toString()));
    }

    @Test
    void oneGpuPerPod() {
        JsonNode res = container().path("resources");
        assertEquals(1, res.path("limits").path("nvidia.com/gpu").asInt(-1), "limits nvidia.com/gpu: 1 — " + res);
        JsonNode req = res.path("requests").path("nvidia.com/gpu");
        assertTrue(req.isMissingNode() || req.asInt() == 1, "a GPU request must equal its limit: " + res);
    }

    @Test
    void retriesAreBoundedAndPreemptedPodsResume() {
        JsonNode spec = job().path("spec");
        assertTrue(spec.path("backoffLimit").isInt() && spec.path("backoffLimit").asInt() >= 1, "backoffLimit: " + spec.path("backoffLimit"));
        JsonNode pod = spec.path("template").path("spec");
        assertTrue(pod.path("terminationGracePeriodSeconds").asInt(30) >= 120,
                "time to checkpoint after SIGTERM: terminationGracePeriodSeconds " + pod.path("terminationGracePeriodSeconds"));
        JsonNode rules = spec.path("podFailurePolicy").path("rules");
        if (!rules.isMissingNode()) {
            assertEquals("Never", pod.path("restartPolicy").asText(), "podFailurePolicy needs restartPolicy: Never");
            boolean ignoresDisruptions = false;
            for (JsonNode r : rules)
                for (JsonNode cond : r.path("onPodConditions"))
                    if (r.path("action").asText().equals("Ignore") && cond.path("type").asText().equals("DisruptionTarget"))
                        ignoresDisruptions = true;
            assertTrue(ignoresDisruptions, "preemption/eviction (DisruptionTarget) should not use up backoffLimit: " + rules);
        } else {
            assertTrue(List.of("Never", "OnFailure").contains(pod.path("restartPolicy").asText()));
        }
    }

    @Test
    void runsLiveOnTheClaimOfPvcYaml() {
        JsonNode pvc = DeployFiles.yaml(PVC);
        assertEquals("v1", pvc.path("apiVersion").asText());
        assertEquals("PersistentVolumeClaim", pvc.path("kind").asText());
        String claim = pvc.path("metadata").path("name").asText();
        List<String> modes = new ArrayList<>();
        pvc.path("spec").path("accessModes").forEach(n -> modes.add(n.asText()));
        assertTrue(modes.contains("ReadWriteMany"), "pods of several nodes write the runs: " + modes);
        assertFalse(pvc.path("spec").path("resources").path("requests").path("storage").asText().isEmpty());

        JsonNode pod = job().path("spec").path("template").path("spec");
        String volume = null;
        for (JsonNode v : pod.path("volumes"))
            if (v.path("persistentVolumeClaim").path("claimName").asText().equals(claim)) volume = v.path("name").asText();
        if (volume == null) fail("no volume uses the claim " + claim + ": " + pod.path("volumes"));
        String mountedAt = null;
        for (JsonNode m : container().path("volumeMounts"))
            if (m.path("name").asText().equals(volume)) mountedAt = m.path("mountPath").asText();
        // The image's working directory is /work and runs go to runs/ under it (the Dockerfile's VOLUME).
        assertEquals("/work/runs", mountedAt);
        assertTrue(DeployFiles.read(DockerfileTest.DOCKERFILE).contains("VOLUME [\"/work/runs\"]"));

        // The sweep file is mounted too, read-only.
        String file = args(container()).get(1);
        boolean mounted = false;
        for (JsonNode m : container().path("volumeMounts")) {
            String at = m.path("mountPath").asText();
            if (file.startsWith(at + "/") || file.equals(at)) mounted = m.path("readOnly").asBoolean();
        }
        assertTrue(mounted, "the sweep file " + file + " is on no read-only volume mount");
        // The repo's sweeps name their configs as "../X.json": the file must sit in the image's experiments/sweeps/
        // (the Dockerfile copies experiments/ to /work/experiments), or those paths point nowhere.
        assertTrue(DeployFiles.read(DockerfileTest.DOCKERFILE).contains("COPY experiments/ /work/experiments/"));
        assertEquals("/work/experiments/sweeps", java.nio.file.Path.of(file).getParent().toString(),
                "the sweep file must sit beside the image's sweeps so its ../ config paths resolve: " + file);
    }

    @Test
    void theImageIsThisVersion() {
        String image = container().path("image").asText();
        assertTrue(image.endsWith("/parrot:" + DeployFiles.pomVersion()) || image.equals("parrot:" + DeployFiles.pomVersion()),
                "the image tag `make docker` builds (parrot:<pom version>): " + image);
    }
}
