package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import parrot.backend.AttentionSpec;
import parrot.backend.Tensor;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * CpuBackend.zero defers its fill to the next op that writes the tensor (CpuTensor.claimZero). Every op that takes
 * the fill over must give the bits it gives into a freshly allocated (zero) tensor, whatever the tensor held before
 * zero(); other uses, and an op whose output is also its input, must see zeros. Shapes are large enough that each
 * op splits over several chunks, so each chunk's own fill is exercised.
 */
class DeferredZeroTest {
    private final CpuBackend be = new CpuBackend(16);
    private final java.util.Random rnd = new java.util.Random(11);

    private Tensor random(int... shape) {
        Tensor t = be.zeros(shape);
        float[] v = new float[t.length()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        be.upload(t, v);
        return t;
    }

    /** Runs op on outputs that are fresh zeros, then on the same outputs filled with junk and zero()ed: same bits. */
    private void sameAsFresh(String name, Consumer<Tensor[]> op, int[]... shapes) {
        Tensor[] fresh = new Tensor[shapes.length], reused = new Tensor[shapes.length];
        for (int k = 0; k < shapes.length; k++) {
            fresh[k] = be.zeros(shapes[k]);
            reused[k] = random(shapes[k]);
            be.zero(reused[k]);
        }
        op.accept(fresh);
        op.accept(reused);
        for (int k = 0; k < shapes.length; k++)
            assertArrayEquals(be.toFloats(fresh[k]), be.toFloats(reused[k]), name + ": output " + k);
    }

    @Test
    void opsThatTakeTheFillOverGiveTheBitsOfAFreshTensor() {
        int rows = 96, ni = 40, no = 72;
        Tensor in = random(rows, ni), w = random(no, ni), dout = random(rows, no);
        sameAsFresh("linear backward", t -> be.linearBackward(t[0], t[1], t[2], dout, in, w),
                new int[]{rows, ni}, new int[]{no, ni}, new int[]{no});

        Tensor x = random(160, 128), dy = random(160, 128);
        sameAsFresh("gelu backward", t -> be.geluBackward(t[0], dy, x), new int[]{160, 128});
        sameAsFresh("silu backward", t -> be.siluBackward(t[0], dy, x), new int[]{160, 128});
        sameAsFresh("accumulate", t -> be.accumulate(t[0], dy), new int[]{160, 128});

        Tensor lw = random(128), lb = random(128), mean = be.zeros(160), rstd = be.zeros(160), h = be.zeros(160, 128);
        be.layerNormForward(h, mean, rstd, x, lw, lb, 1e-5);
        sameAsFresh("layer norm backward", t -> be.layerNormBackward(t[0], t[1], t[2], dy, x, lw, mean, rstd),
                new int[]{160, 128}, new int[]{128}, new int[]{128});
        be.rmsNormForward(h, rstd, x, lw, 1e-5);
        sameAsFresh("rms norm backward", t -> be.rmsNormBackward(t[0], t[1], dy, x, lw, rstd),
                new int[]{160, 128}, new int[]{128});

        int batch = 5, seq = 32, c = 128;
        Tensor cw = random(c, 4), cx = random(batch * seq, c), cdy = random(batch * seq, c);
        sameAsFresh("conv1d backward", t -> be.conv1dBackward(t[0], t[1], t[2], cdy, cx, cw, batch, seq),
                new int[]{batch * seq, c}, new int[]{c, 4}, new int[]{c});

        AttentionSpec spec = new AttentionSpec(4, 8, new int[]{1, 2, 0, 0}, new double[4]);
        Tensor qkv = random(batch * seq, 96), att = be.zeros(batch * seq, 32), lse = be.zeros(batch * 4 * seq);
        Tensor datt = random(batch * seq, 32);
        be.attentionForward(att, lse, qkv, spec, batch, seq);
        sameAsFresh("attention backward", t -> be.attentionBackward(t[0], datt, qkv, att, lse, spec, batch, seq),
                new int[]{batch * seq, 96});
    }

    @Test
    void scanBackwardTakesTheFillOverOnlyWhenAllItsOutputsArePending() {
        int batch = 3, seq = 40, d = 48, n = 4, rows = batch * seq;
        Tensor u = random(rows, d), delta = random(rows, d), bm = random(rows, n), cm = random(rows, n);
        Tensor z = random(rows, d), dSkip = random(d), dtB = random(d), a = be.zeros(d, n), aLog = random(d, n);
        be.negExpForward(a, aLog);
        Tensor y = be.zeros(rows, d), ckpt = be.zeros(batch, be.scanChunks(seq), d, n), dy = random(rows, d);
        be.scanForward(y, ckpt, u, delta, a, bm, cm, dSkip, z, dtB, true, batch, seq);
        int[][] shapes = {{rows, d}, {rows, d}, {d, n}, {rows, n}, {rows, n}, {rows, d}, {d}, {d}};
        Consumer<Tensor[]> scan = t -> be.scanBackward(t[0], t[1], t[2], t[3], t[4], t[6], t[5], t[7], dy, ckpt, u,
                delta, a, bm, cm, dSkip, z, dtB, true, batch, seq);
        sameAsFresh("scan backward", scan, shapes);
        // one output not pending: none is claimed, each pending one is filled before the scan adds to it
        Tensor[] fresh = new Tensor[shapes.length], mixed = new Tensor[shapes.length];
        for (int k = 0; k < shapes.length; k++) {
            fresh[k] = be.zeros(shapes[k]);
            mixed[k] = random(shapes[k]);
            if (k != 3) be.zero(mixed[k]);
        }
        be.copy(fresh[3], mixed[3]);
        scan.accept(fresh);
        scan.accept(mixed);
        for (int k = 0; k < shapes.length; k++)
            assertArrayEquals(be.toFloats(fresh[k]), be.toFloats(mixed[k]), "scan backward, output " + k);
    }

    @Test
    void otherUsesAndAliasedInputsSeeZeros() {
        Tensor t = random(300, 50), other = random(300, 50);
        be.zero(t);
        be.copy(other, t);                                        // a pending source copies as zeros
        for (float v : be.toFloats(other)) assertEquals(0f, v);
        Tensor s = random(300, 50);
        be.zero(s);
        be.accumulate(s, s);                                      // dst is its own input: not claimed, filled first
        for (float v : be.toFloats(s)) assertEquals(0f, v);
        Tensor g = random(300, 50);
        be.zero(g);
        be.geluBackward(g, g, g);                                 // 0 += 0·gelu'(0)
        for (float v : be.toFloats(g)) assertEquals(0f, v);
        Tensor q = random(300, 50);
        be.zero(q);
        be.scale(q, 3);
        assertEquals(0.0, be.sumSquares(q));
    }
}
