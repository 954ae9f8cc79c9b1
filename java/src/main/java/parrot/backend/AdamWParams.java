package parrot.backend;

/** AdamW moments and epsilon (torch.optim.AdamW); weight decay is per parameter, passed to each step. */
public record AdamWParams(double beta1, double beta2, double eps) {
}
