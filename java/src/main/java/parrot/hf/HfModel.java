package parrot.hf;

import parrot.backend.Backend;
import parrot.model.LanguageModel;
import parrot.model.ModelFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A pretrained model from a Hugging Face folder (config.json + safetensors), as parrot's own network: Pythia as the
 * GPT-NeoX transformer, Mamba as the Mamba stack, so it decodes on any backend with the KV cache or recurrent
 * state. Only a path is ever read; nothing is fetched.
 *
 * @param name   a label for results (default: the folder's name)
 * @param dir    the folder
 * @param config the mapped config.json
 * @param model  the network, weights loaded, without gradients
 */
public record HfModel(String name, Path dir, HfConfig config, LanguageModel model) {
    public static HfModel load(Path dir, Backend be, String name) {
        if (!Files.isDirectory(dir))
            throw new HfException(dir + ": not a folder (pass the local folder of a downloaded Hugging Face model)");
        String label = name != null ? name : labelOf(dir);
        HfConfig cfg = HfConfig.read(dir, label);
        LanguageModel m = ModelFactory.createForInference(cfg.model(), cfg.vocabSize(), be);
        HfWeights.load(m, dir);
        return new HfModel(label, dir, cfg, m);
    }

    /** The folder's name made into a model name (letters, digits, '-', '_'). */
    static String labelOf(Path dir) {
        Path f = dir.toAbsolutePath().normalize().getFileName();
        String s = f == null ? "model" : f.toString().replaceAll("[^A-Za-z0-9_-]", "-").replaceAll("^[-_]+", "");
        if (s.isEmpty() || s.chars().allMatch(Character::isDigit)) s = "model-" + s;
        return s;
    }

    /** Gives the weights' memory back (device memory is not garbage collected). */
    public void release() {
        for (var p : model.parameters().list()) model.backend().release(p.value());
    }

    public long parameters() {
        return model.parameters().count();
    }
}
