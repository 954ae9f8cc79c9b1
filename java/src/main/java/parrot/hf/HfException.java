package parrot.hf;

/** A Hugging Face model folder parrot cannot use, in one line naming the file and the tensor or field. */
public final class HfException extends RuntimeException {
    public HfException(String message) {
        super(message);
    }

    public HfException(String message, Throwable cause) {
        super(message, cause);
    }
}
