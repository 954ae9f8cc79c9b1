package parrot.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import parrot.sweep.Sweep;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Every config under experiments/ parses and validates, and the paper-scale ones have the paper's shapes. */
class ExperimentConfigsTest {
    static final Path DIR = Path.of("experiments");

    static List<Path> json(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void everyExperimentConfigParses() throws IOException {
        List<Path> files = json(DIR);
        assertTrue(files.size() >= 15, "experiments/*.json: " + files);
        for (Path f : files) {
            ExperimentConfig c = ConfigLoader.load(f, List.of());
            assertEquals(f.getFileName().toString().replace(".json", ""), c.name(), "an experiment is named like its file");
        }
    }

    @Test
    void paperScaleShapes() throws IOException {
        ObjectMapper m = new ObjectMapper();
        for (String name : List.of("copy.json", "lengthgen.json", "dup-ngram.json", "lookup-prefix.json", "lookup-suffix.json",
                "phonebook.json")) {
            JsonNode t = m.readTree(DIR.resolve(name).toFile());
            List<String> positional = new ArrayList<>();
            for (JsonNode model : t.get("models")) {
                String fam = model.path("family").asText();
                if (fam.equals("transformer")) {
                    assertEquals(1024, model.get("d_model").asInt(), name);
                    assertEquals(12, model.get("n_layers").asInt(), name);
                    assertEquals(16, model.get("n_heads").asInt(), name);
                    positional.add(model.get("positional").asText());
                } else if (fam.equals("mamba")) {
                    assertEquals(1024, model.get("d_model").asInt());
                    assertEquals(24, model.get("n_layers").asInt());
                    assertEquals(16, model.get("d_state").asInt());
                } else {
                    assertEquals("lstm", fam);
                    assertEquals(1024, model.get("d_model").asInt());
                    assertEquals(4, model.get("n_layers").asInt());
                }
            }
            assertEquals(List.of("nope", "rope", "alibi", "hard-alibi"), positional, name);
        }
    }

    @Test
    void sweepsLoad() throws IOException {
        for (Path f : json(DIR.resolve("sweeps"))) {
            Sweep s = Sweep.load(f, List.of());
            assertFalse(s.cells().isEmpty(), f.toString());
        }
        // 17 experiment x model cells, 3 seeds each.
        assertEquals(17 * 3, Sweep.load(DIR.resolve("sweeps/paper-small.json"), List.of()).cells().size());
    }

    /** capacity-small exists to bring Corollary 2.8's length near the trained lengths (within ~10-20x). */
    @Test
    void smallStateModelsHaveABoundNearTheTrainedLengths() {
        ExperimentConfig c = ConfigLoader.load(DIR.resolve("capacity-small.json"), List.of());
        int trained = c.task().lengths().hi();
        for (ModelConfig m : c.models()) {
            long bound = parrot.model.StateCapacity.of(m, 32).orElseThrow().copyBoundLength(c.task().alphabet());
            assertTrue(bound > trained && bound <= 25 * trained, m.name() + ": bound " + bound + " vs trained " + trained);
        }
    }
}
