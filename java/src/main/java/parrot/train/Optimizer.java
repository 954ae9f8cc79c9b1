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
    private final List<Parameter> params;
    private final List<Tensor> m = new ArrayList<>(), v = new ArrayList<>();
    private final AdamWParams hp;
    private final double weightDecay, clip;
    private int step;

    public Optimizer(Backend be, List<Parameter> params, AdamWParams hp, double weightDecay, double clip) {
        this.be = be;
        this.params = List.copyOf(params);
        this.hp = hp;
        this.weightDecay = weightDecay;
        this.clip = clip;
        for (Parameter p : params) {
            m.add(be.zeros(p.shape()));
            v.add(be.zeros(p.shape()));
        }
    }

    /** Global L2 norm of all gradients, summed in parameter order. */
    public double gradNorm() {
        double s = 0;
        for (Parameter p : params) s += be.sumSquares(p.grad());
        return Math.sqrt(s);
    }

    /**
     * Clips, then takes one AdamW step at the given learning rate. Returns the gradient norm before clipping.
     * A non-finite gradient changes nothing and raises {@link NonFiniteException} naming the first parameter, in
     * the order backward computes them (head first), whose gradient holds a NaN or an infinity.
     */
    public double step(double lr) {
        double[] squares = new double[params.size()];
        double s = 0;
        for (int i = 0; i < params.size(); i++) s += squares[i] = be.sumSquares(params.get(i).grad());
        double norm = Math.sqrt(s); // the same sum, in the same order, as gradNorm()
        if (!Double.isFinite(norm)) {
            for (int i = params.size() - 1; i >= 0; i--)
                if (!Double.isFinite(squares[i]))
                    throw new NonFiniteException("gradient", params.get(i).name(), "non-finite gradient: "
                            + params.get(i).name() + " is the first gradient (backward order) holding a NaN or infinity");
            throw new NonFiniteException("gradient", "global norm", "non-finite global gradient norm " + norm);
        }
        if (clip > 0 && norm > clip) {
            double coef = clip / (norm + 1e-6);
            for (Parameter p : params) be.scale(p.grad(), coef);
        }
        step++;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            be.adamw(p.value(), p.grad(), m.get(i), v.get(i), hp, p.weightDecay() ? weightDecay : 0, step, lr);
        }
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
