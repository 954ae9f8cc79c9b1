package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.model.ParameterSet.Init;

/**
 * A LayerNorm (weight and bias) or an RMSNorm (weight only) over the last dim, with parameters named
 * {@code prefix + "weight"} / {@code prefix + "bias"}. Callers own the activations: out, and the statistics
 * saved for backward (mean, used by LayerNorm only, and rstd), one per row.
 */
public final class Norm {
    private final Backend be;
    private final boolean rms;
    private final Parameter weight, bias;
    private final double eps;

    Norm(Backend be, boolean rms, Parameter weight, Parameter bias, double eps) {
        this.be = be;
        this.rms = rms;
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    /** kind: "layernorm" or "rmsnorm" (ModelConfig.NORMS). */
    public static Norm create(ParameterSet ps, String prefix, String kind, int c, double eps) {
        boolean rms = switch (kind) {
            case "layernorm" -> false;
            case "rmsnorm" -> true;
            default -> throw new IllegalArgumentException("norm: unknown '" + kind + "'; allowed: layernorm, rmsnorm");
        };
        Parameter w = ps.add(prefix + "weight", new Init.Constant(1), false, c);
        Parameter b = rms ? null : ps.add(prefix + "bias", new Init.Constant(0), false, c);
        return new Norm(ps.backend(), rms, w, b, eps);
    }

    public boolean isRms() {
        return rms;
    }

    public void forward(Tensor out, Tensor mean, Tensor rstd, Tensor in) {
        if (rms) be.rmsNormForward(out, rstd, in, weight.value(), eps);
        else be.layerNormForward(out, mean, rstd, in, weight.value(), bias == null ? null : bias.value(), eps);
    }

    /** din += ∂L/∂in; the parameter gradients accumulate. */
    public void backward(Tensor din, Tensor dout, Tensor in, Tensor mean, Tensor rstd) {
        if (rms) be.rmsNormBackward(din, weight.grad(), dout, in, weight.value(), rstd);
        else be.layerNormBackward(din, weight.grad(), bias == null ? null : bias.grad(), dout, in, weight.value(), mean, rstd);
    }
}
