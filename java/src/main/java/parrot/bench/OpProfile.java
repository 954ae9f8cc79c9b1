package parrot.bench;

import parrot.backend.Backend;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a training step's time goes, by backend op: a Backend that forwards every call to another and adds up
 * the wall-clock time each op name takes. Ops on the CPU backend run to completion before they return, so
 * their wall time is their cost (a device backend's are asynchronous: there this would time the launches).
 * The calls are counted the same way; the share is of the profiled run's whole wall time, so what is left over
 * is the model's own Java code between ops.
 */
public final class OpProfile {
    private final Map<String, long[]> byOp = new LinkedHashMap<>();   // name -> {nanoseconds, calls}
    private final Backend timed;
    private long start;

    private OpProfile(Backend inner) {
        timed = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) return method.invoke(inner, args);
                    long t0 = System.nanoTime();
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        long dt = System.nanoTime() - t0;
                        long[] s = byOp.computeIfAbsent(method.getName(), k -> new long[2]);
                        s[0] += dt;
                        s[1]++;
                    }
                });
    }

    /** A profile around inner; {@link #backend()} is what the model should call. */
    public static OpProfile around(Backend inner) {
        return new OpProfile(inner);
    }

    public Backend backend() {
        return timed;
    }

    /** Forgets what was timed so far (the warm-up) and starts the wall clock. */
    public void reset() {
        byOp.clear();
        start = System.nanoTime();
    }

    /** One op's totals over the profiled steps. */
    public record Op(String name, double msPerStep, double callsPerStep, double share) {
    }

    /** Ops from the most expensive down, per step of the {@code steps} run since {@link #reset}. */
    public List<Op> ops(int steps) {
        double wall = System.nanoTime() - start;
        List<Op> out = new ArrayList<>();
        for (var e : byOp.entrySet())
            out.add(new Op(e.getKey(), e.getValue()[0] / 1e6 / steps, (double) e.getValue()[1] / steps,
                    e.getValue()[0] / wall));
        out.sort(Comparator.comparingDouble(Op::share).reversed());
        return out;
    }
}
