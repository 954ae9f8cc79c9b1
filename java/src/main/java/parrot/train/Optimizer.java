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
            decay[i] = p.weightDecay() ? weightDecay : 0;
        }
    }

    /** Clips, then takes one AdamW step at the given learning rate. Returns the gradient norm before clipping. */
    public double step(double lr) {
        double norm = be.clipGradNorm(grads, clip);
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
