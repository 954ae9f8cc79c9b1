package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors one decoder allocates (KV caches, recurrent states, step scratch), given back together when it is
 * done: device memory is not garbage collected, and evaluation makes a decoder per batch of every length.
 */
public final class DecodeMemory {
    private final Backend be;
    private final List<Tensor> owned = new ArrayList<>();

    public DecodeMemory(Backend be) {
        this.be = be;
    }

    public Tensor zeros(int... shape) {
        Tensor t = be.zeros(shape);
        owned.add(t);
        return t;
    }

    public Tensor zerosInt(int... shape) {
        Tensor t = be.zerosInt(shape);
        owned.add(t);
        return t;
    }

    public void releaseAll() {
        for (Tensor t : owned) be.release(t);
        owned.clear();
    }
}
