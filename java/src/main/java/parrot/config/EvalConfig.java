package parrot.config;

/**
 * Evaluation sweep. Its context is sized from the lengths, not tied to training's (a pitfall of the reference
 * code, where testing at 1000 forced training rows over 2000 tokens).
 *
 * @param lengths   string lengths to test, every one of them including hi
 * @param samples   strings per length
 * @param batchSize strings decoded together
 */
public record EvalConfig(IntRange lengths, int samples, int batchSize) {
    public EvalConfig {
        Check.required("lengths", lengths).check("lengths", 1);
        Check.atLeast("samples", samples, 1);
        Check.atLeast("batch_size", batchSize, 1);
    }

    public static EvalConfig defaults() {
        return new EvalConfig(new IntRange(1, 60), 50, 50);
    }
}
