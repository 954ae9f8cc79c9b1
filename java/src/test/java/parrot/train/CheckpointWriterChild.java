package parrot.train;

import parrot.backend.AdamWParams;
import parrot.backend.cpu.CpuBackend;
import parrot.config.ConfigLoader;
import parrot.config.ExperimentConfig;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;

import java.nio.file.Path;
import java.util.List;

/**
 * Child JVM for CheckpointTest: writes checkpoints of a ~1M-parameter model back to back, printing "saved N"
 * after each, until it is killed.
 */
public final class CheckpointWriterChild {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int step = Integer.parseInt(args[1]);
        ExperimentConfig exp = ConfigLoader.parse("""
                {"name": "kill", "models": [{"name": "m", "d_model": 128, "n_heads": 4, "n_layers": 5, "positional": "hard-alibi"}]}
                """, List.of());
        CpuBackend be = new CpuBackend();
        LanguageModel model = ModelFactory.create(exp.models().get(0), 30, be, 1);
        Optimizer opt = new Optimizer(be, model.parameters().list(), new AdamWParams(0.9, 0.999, 1e-8), 0.1, 1);
        while (true) {
            step++;
            opt.restoreStepCount(step);
            Checkpoint.save(dir, exp, exp.models().get(0), model, opt,
                    new Checkpoint.TrainState(step, step * 10L, 0, 1, 0, 0, List.of(), List.of()));
            System.out.println("saved " + step);
            System.out.flush();
        }
    }
}
