package parrot.train;

/**
 * A NaN or an infinity in training: what was non-finite ("loss", "gradient"), the first tensor where it
 * appeared (a parameter's Hugging Face name, or "loss" when every weight and gradient is finite), and — once
 * the trainer knows it — the step.
 */
public final class NonFiniteException extends IllegalStateException {
    private final String kind, tensor;
    private final int step;

    public NonFiniteException(String kind, String tensor, String message) {
        this(kind, tensor, -1, message);
    }

    private NonFiniteException(String kind, String tensor, int step, String message) {
        super(message);
        this.kind = kind;
        this.tensor = tensor;
        this.step = step;
    }

    /** The same problem, told with its step and what was kept. */
    public NonFiniteException at(int step, String context) {
        NonFiniteException e = new NonFiniteException(kind, tensor, step, "step " + step + ": " + getMessage() + context);
        e.initCause(this);
        return e;
    }

    public String kind() {
        return kind;
    }

    public String tensor() {
        return tensor;
    }

    public int step() {
        return step;
    }
}
