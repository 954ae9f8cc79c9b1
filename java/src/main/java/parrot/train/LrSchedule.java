package parrot.train;

import parrot.config.TrainConfig;

/** Linear warm-up to the peak, then linear or cosine decay to minLrRatio·peak at the last step (or constant). */
public record LrSchedule(double peak, int warmup, int total, String kind, double minRatio) {
    public static LrSchedule of(TrainConfig t) {
        return new LrSchedule(t.lr(), t.warmupSteps(), t.steps(), t.schedule(), t.minLrRatio());
    }

    /** Learning rate for optimizer step {@code step}, counted from 1. */
    public double at(int step) {
        if (warmup > 0 && step <= warmup) return peak * step / warmup;
        if (kind.equals("constant") || total <= warmup) return peak;
        double progress = Math.min(1.0, (double) (step - warmup) / (total - warmup));
        double floor = peak * minRatio;
        return switch (kind) {
            case "cosine" -> floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
            case "linear" -> floor + (peak - floor) * (1 - progress);
            default -> throw new IllegalArgumentException("train.schedule: unknown '" + kind + "'; allowed: linear, cosine, constant");
        };
    }
}
