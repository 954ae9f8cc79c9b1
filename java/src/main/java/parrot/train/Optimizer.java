package parrot.train;

import parrot.backend.AdamWParams;
import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.model.Parameter;

import java.util.ArrayList;
import java.util.List;

/** AdamW over a model's parameters with global gradient-norm clipping (torch.nn.utils.clip_grad_norm_). */
public final class Optimizer {
    private final Backend be;
    private final List<Tensor> m = new ArrayList<>(), v = new ArrayList<>(), values = new ArrayList<>(), grads = new ArrayList<>();
    private final double[] decay;
    private final List<String> names = new ArrayList<>();
    private final AdamWParams hp;
    private final double clip;
    private int step;

    public Optimizer(Backend be, List<Parameter> params, AdamWParams hp, double weightDecay, double clip) {
        this.be = be;
        this.hp = hp;
        this.clip = clip;
        decay = new double[params.size()];
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            m.add(be.zeros(p.shape()));
            v.add(be.zeros(p.shape()));
            values.add(p.value());
            grads.add(p.grad());
            names.add(p.name());
            decay[i] = p.weightDecay() ? weightDecay : 0;
        }
    }

    /** Global L2 norm of all gradients, summed in parameter order (as clipGradNorm sums them). */
    public double gradNorm() {
        double s = 0;
        for (Tensor g : grads) s += be.sumSquares(g);
        return Math.sqrt(s);
    }

    /**
     * Clips, then takes one AdamW step at the given learning rate. Returns the gradient norm before clipping.
     * A non-finite gradient changes no weight and raises {@link NonFiniteException} naming the first parameter,
     * in the order backward computes them (head first), whose gradient holds a NaN or an infinity.
     */
    public double step(double lr) {
        double norm = be.clipGradNorm(grads, clip);
        if (!Double.isFinite(norm)) {
            // Only on failure: find the culprit (clipping may have turned ±inf into NaN, still non-finite).
            for (int i = grads.size() - 1; i >= 0; i--)
                if (!Double.isFinite(be.sumSquares(grads.get(i))))
                    throw new NonFiniteException("gradient", names.get(i), "non-finite gradient: " + names.get(i)
                            + " is the first gradient (backward order) holding a NaN or infinity");
            throw new NonFiniteException("gradient", "global norm", "non-finite global gradient norm " + norm);
        }
        step++;
        be.adamw(values, grads, m, v, hp, decay, step, lr);
        return norm;
    }

    public int stepCount() {
        return step;
    }

    /** Moments in parameter order, for checkpoints. */
    public List<Tensor> firstMoments() {
        return m;
    }

    public List<Tensor> secondMoments() {
        return v;
    }

    public void restoreStepCount(int s) {
        step = s;
    }
}
