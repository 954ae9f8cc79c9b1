package parrot.model;

import parrot.backend.Backend;
import parrot.data.Rng;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The model's parameters in registration order, each allocated with its gradient and initialised. */
public final class ParameterSet {
    /** How a parameter starts. */
    public sealed interface Init {
        record Normal(double std) implements Init {
        }

        record Constant(double value) implements Init {
        }

        /** Uniform in [−bound, bound] (torch's kaiming_uniform_(a=√5) default for Linear is bound 1/√fan_in). */
        record Uniform(double bound) implements Init {
        }

        /** Any values; the block computes them (e.g. Mamba's A_log = log(1..N)). */
        record Values(double[] values) implements Init {
        }
    }

    private final Backend backend;
    private final Rng rng;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final boolean inference;

    public ParameterSet(Backend backend, long seed) {
        this(backend, seed, false);
    }

    /**
     * @param inference true for weights that are loaded, never trained: no gradient tensors (half the memory of a
     *                  pretrained model) and no initial values drawn (zeros until the loader fills them)
     */
    public ParameterSet(Backend backend, long seed, boolean inference) {
        this.backend = backend;
        this.rng = new Rng(seed);
        this.inference = inference;
    }

    /** True when parameters have no gradients (a loaded pretrained model). */
    public boolean inference() {
        return inference;
    }

    public Backend backend() {
        return backend;
    }

    /** Registers and initialises a parameter; values are drawn in registration order, so a seed fixes them. */
    public Parameter add(String name, Init init, boolean weightDecay, int... shape) {
        if (byName.containsKey(name)) throw new IllegalStateException("duplicate parameter " + name);
        Parameter p = new Parameter(name, shape.clone(), backend.zeros(shape), inference ? null : backend.zeros(shape),
                weightDecay);
        byName.put(name, p);
        if (inference) return p;
        int n = p.value().length();
        double[] v = new double[n];
        if (init instanceof Init.Normal nrm) {
            for (int i = 0; i < n; i++) v[i] = nrm.std() * rng.nextGaussian();
        } else if (init instanceof Init.Uniform u) {
            for (int i = 0; i < n; i++) v[i] = u.bound() * (2 * rng.nextDouble() - 1);
        } else if (init instanceof Init.Constant c) {
            java.util.Arrays.fill(v, c.value());
        } else if (init instanceof Init.Values vals) {
            if (vals.values().length != n)
                throw new IllegalArgumentException(name + ": " + vals.values().length + " initial values for " + n + " elements");
            System.arraycopy(vals.values(), 0, v, 0, n);
        }
        backend.upload(p.value(), v);
        return p;
    }

    public Rng rng() {
        return rng;
    }

    public List<Parameter> list() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named " + name);
        return p;
    }

    public long count() {
        long n = 0;
        for (Parameter p : byName.values()) n += p.size();
        return n;
    }

    public void zeroGrads() {
        if (inference) throw new IllegalStateException("an inference-only model has no gradients");
        for (Parameter p : byName.values()) backend.zero(p.grad());
    }
}
