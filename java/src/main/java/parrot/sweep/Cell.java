package parrot.sweep;

import parrot.config.ExperimentConfig;
import parrot.config.ModelConfig;

import java.nio.file.Path;

/**
 * One run of a sweep: an experiment (its seed already set), one of its models. Its results live in
 * {@code <sweep out>/<experiment>/<model>/seed-<seed>/} (result.json, checkpoint/).
 */
public record Cell(ExperimentConfig experiment, ModelConfig model) {
    public long seed() {
        return experiment.seed();
    }

    /** "experiment/model/seed-N": stable, unique within a sweep, and the cell's folder under the sweep's. */
    public String id() {
        return experiment.name() + "/" + model.name() + "/seed-" + seed();
    }

    public Path dir(Path root) {
        return root.resolve(experiment.name()).resolve(model.name()).resolve("seed-" + seed());
    }
}
