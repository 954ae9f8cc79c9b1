package parrot.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.backend.Tensor;

import java.util.Random;

import static parrot.backend.cpu.GradCheck.check;
import static parrot.backend.cpu.GradCheck.tensor;

/** float64 finite-difference checks of every layer's backward on the generated f64 twin of the CPU backend. */
class OpGradientTest {
    private final Backend be = new parrot.backend.cpu.f64.CpuBackend();
    private final Random rnd = new Random(42);
    private static final double TOL = 1e-7;

    @Test
    void linear() {
        Tensor in = tensor(be, rnd, 1, 5, 7), w = tensor(be, rnd, 1, 3, 7), b = tensor(be, rnd, 1, 3);
        Tensor din = be.zeros(5, 7), dw = be.zeros(3, 7), db = be.zeros(3), out = be.zeros(5, 3);
        check("linear", be, new Tensor[]{in, w, b}, new Tensor[]{din, dw, db}, out,
                () -> be.linearForward(out, in, w, b), d -> be.linearBackward(din, dw, db, d, in, w), TOL);
    }

    @Test
    void layerNorm() {
        Tensor in = tensor(be, rnd, 1, 4, 6), w = tensor(be, rnd, 1, 6), b = tensor(be, rnd, 1, 6);
        Tensor din = be.zeros(4, 6), dw = be.zeros(6), db = be.zeros(6), out = be.zeros(4, 6);
        Tensor mean = be.zeros(4), rstd = be.zeros(4);
        check("layernorm", be, new Tensor[]{in, w, b}, new Tensor[]{din, dw, db}, out,
                () -> be.layerNormForward(out, mean, rstd, in, w, b, 1e-5),
                d -> be.layerNormBackward(din, dw, db, d, in, w, mean, rstd), TOL);
    }

    @Test
    void gelu() {
        Tensor in = tensor(be, rnd, 2, 40), din = be.zeros(40), out = be.zeros(40);
        check("gelu", be, new Tensor[]{in}, new Tensor[]{din}, out, () -> be.geluForward(out, in),
                d -> be.geluBackward(din, d, in), TOL);
    }

    @Test
    void embedding() {
        Tensor table = tensor(be, rnd, 1, 6, 4), dtable = be.zeros(6, 4), out = be.zeros(5, 4);
        Tensor tok = be.zerosInt(5);
        be.uploadInts(tok, new int[]{3, 0, 3, 5, 1});
        check("embedding", be, new Tensor[]{table}, new Tensor[]{dtable}, out, () -> be.embeddingForward(out, tok, table),
                d -> be.embeddingBackward(dtable, d, tok), TOL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nope", "alibi", "hard-alibi", "mixed"})
    void attention(String scheme) {
        int b = 2, t = 6, h = 4, hd = 3;
        AttentionSpec spec = switch (scheme) {
            case "alibi" -> new AttentionSpec(h, hd, new int[h], new double[]{0.5, 0.25, 0.125, 0.0625});
            case "hard-alibi" -> new AttentionSpec(h, hd, new int[]{1, 2, 0, 0}, new double[h]);
            case "mixed" -> new AttentionSpec(h, hd, new int[]{3, 0, 2, 7}, new double[]{0, 0.5, 0.1, 0});
            default -> AttentionSpec.plain(h, hd);
        };
        Tensor qkv = tensor(be, rnd, 1, b * t, 3 * h * hd), dqkv = be.zeros(b * t, 3 * h * hd);
        Tensor out = be.zeros(b * t, h * hd), lse = be.zeros(b, h, t);
        check("attention " + scheme, be, new Tensor[]{qkv}, new Tensor[]{dqkv}, out,
                () -> be.attentionForward(out, lse, qkv, spec, b, t),
                d -> be.attentionBackward(dqkv, d, qkv, out, lse, spec, b, t), TOL);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3})
    void rope(int offset) {
        int b = 2, t = 4, h = 2, hd = 8;
        RopeSpec spec = RopeSpec.of(h, hd, 0.5, 10000);
        Tensor qkv = tensor(be, rnd, 1, b * t, 3 * h * hd), dqkv = be.zeros(b * t, 3 * h * hd), out = be.zeros(b * t, 3 * h * hd);
        check("rope", be, new Tensor[]{qkv}, new Tensor[]{dqkv}, out, () -> be.ropeForward(out, qkv, spec, b, t, offset),
                d -> be.ropeBackward(dqkv, d, spec, b, t, offset), TOL);
    }

    @Test
    void crossEntropy() {
        Tensor logits = tensor(be, rnd, 2, 5, 7), dlogits = be.zeros(5, 7), loss = be.zeros(1);
        Tensor targets = be.zerosInt(5);
        be.uploadInts(targets, new int[]{2, -1, 6, 0, -1});
        // out = the loss sum as a 1-element tensor, so dL/dlogits = r · dlogits with scale 1
        Tensor[] dl = {be.zeros(5, 7)};
        check("cross-entropy", be, new Tensor[]{logits}, new Tensor[]{dlogits}, loss,
                () -> be.upload(loss, new double[]{be.crossEntropy(null, logits, targets, 1)}),
                d -> {
                    be.crossEntropy(dl[0], logits, targets, be.toDoubles(d)[0]);
                    be.accumulate(dlogits, dl[0]);
                }, TOL);
    }
}
