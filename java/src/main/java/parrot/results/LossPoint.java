package parrot.results;

/** Mean training loss over the steps since the previous point, with the state at the point's step. */
public record LossPoint(int step, double loss, double lr, double gradNorm, double tokensPerSecond) {
}
