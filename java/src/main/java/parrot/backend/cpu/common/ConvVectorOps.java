package parrot.backend.cpu.common;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ConvSimd} on the Vector API. The weight gradient's four tap sums and the bias sum of a block of W channels
 * stay in registers over a sequence's rows (the plain loop added one row's products into an array per tap: a memory
 * round trip a row, 320 µs a call at the quickstart's Mamba against about 20 here). The first three steps of a sequence
 * see only the taps whose input exists, written out so that no vector is reassigned under a branch.
 */
final class ConvVectorOps {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int W = F.length();

    private ConvVectorOps() {
    }

    static void forwardRow4(float[] out, int ob, float[] in, int ib, float[] wt, float[] bias, int c) {
        int ch = 0;
        for (int up = F.loopBound(c); ch < up; ch += W) {
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, ch);
            acc = acc.add(FloatVector.fromArray(F, wt, ch).mul(FloatVector.fromArray(F, in, ib + ch)));
            acc = acc.add(FloatVector.fromArray(F, wt, c + ch).mul(FloatVector.fromArray(F, in, ib + c + ch)));
            acc = acc.add(FloatVector.fromArray(F, wt, 2 * c + ch).mul(FloatVector.fromArray(F, in, ib + 2 * c + ch)));
            acc.add(FloatVector.fromArray(F, wt, 3 * c + ch).mul(FloatVector.fromArray(F, in, ib + 3 * c + ch)))
                    .intoArray(out, ob + ch);
        }
        for (; ch < c; ch++) {
            float a = bias == null ? 0f : bias[ch];
            for (int j = 0; j < 4; j++) a += wt[j * c + ch] * in[ib + j * c + ch];
            out[ob + ch] = a;
        }
    }

    static void inputGradRow4(float[] din, int ib, float[] dout, int ob, float[] wt, int c) {
        int ch = 0;
        for (int up = F.loopBound(c); ch < up; ch += W) {
            FloatVector acc = FloatVector.fromArray(F, din, ib + ch);
            acc = acc.add(FloatVector.fromArray(F, wt, ch).mul(FloatVector.fromArray(F, dout, ob + 3 * c + ch)));
            acc = acc.add(FloatVector.fromArray(F, wt, c + ch).mul(FloatVector.fromArray(F, dout, ob + 2 * c + ch)));
            acc = acc.add(FloatVector.fromArray(F, wt, 2 * c + ch).mul(FloatVector.fromArray(F, dout, ob + c + ch)));
            acc.add(FloatVector.fromArray(F, wt, 3 * c + ch).mul(FloatVector.fromArray(F, dout, ob + ch)))
                    .intoArray(din, ib + ch);
        }
        for (; ch < c; ch++) {
            float a = din[ib + ch];
            for (int j = 0; j < 4; j++) a += wt[j * c + ch] * dout[ob + (3 - j) * c + ch];
            din[ib + ch] = a;
        }
    }

    /*
     * The weight gradient runs one sequence at a time per vector of channels, its sums carried in sw and sb between
     * sequences (stored and reloaded exactly, so the bits are those of one pass). Why not one pass over all rows with
     * the sums in registers throughout: that method ran 8 times a training step, each a 2,048-row loop, so C2 only
     * ever compiled it on stack replacement, entered with the sums as boxed vectors from the C1 code, and kept them
     * boxed: about 400 KB of garbage and ~1 ms a call at the quickstart's Mamba (Java 17, AVX-512 Xeon), against
     * ~0.08 ms for sequence(), which is called batch times a vector of channels and so compiled whole. Why one vector
     * of channels, not two side by side (10 sums): that method's compile, about 70 Vector API calls, ran past C2's
     * inlining budget in 2 of 5 JVMs and boxed again (JFR; `bench cpu`'s heap MB/step 49.9 against 9.6); with 5
     * sums it did in none of 8, for ~20 µs more a call.
     */
    static void weightGrad4(float[] sw, float[] sb, float[] dout, float[] in, int batch, int seqLen, int c, int lo,
                            int hi) {
        int nc = hi - lo, ch = lo;
        java.util.Arrays.fill(sw, 0, 4 * nc, 0f);
        java.util.Arrays.fill(sb, 0, nc, 0f);
        for (; ch + W <= hi; ch += W)
            for (int b = 0; b < batch; b++) sequence(sw, sb, dout, in, b * seqLen * c + ch, ch - lo, nc, seqLen, c);
        for (; ch < hi; ch++) {                                           // channels past the last whole vector
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, sbias = 0f;
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < seqLen; t++) {
                    int o = (b * seqLen + t) * c + ch;
                    float d = dout[o];
                    sbias += d;
                    if (t >= 3) s0 += d * in[o - 3 * c];
                    if (t >= 2) s1 += d * in[o - 2 * c];
                    if (t >= 1) s2 += d * in[o - c];
                    s3 += d * in[o];
                }
            int s = ch - lo;
            sw[s] = s0;
            sw[nc + s] = s1;
            sw[2 * nc + s] = s2;
            sw[3 * nc + s] = s3;
            sb[s] = sbias;
        }
    }

    /** One sequence's products for the W channels at o (its t = 0 row), added to the sums at s in sw and sb. */
    private static void sequence(float[] sw, float[] sb, float[] dout, float[] in, int o, int s, int nc, int seqLen,
                                  int c) {
        FloatVector a0 = FloatVector.fromArray(F, sw, s), a1 = FloatVector.fromArray(F, sw, nc + s);
        FloatVector a2 = FloatVector.fromArray(F, sw, 2 * nc + s), a3 = FloatVector.fromArray(F, sw, 3 * nc + s);
        FloatVector bs = FloatVector.fromArray(F, sb, s);
        FloatVector d = FloatVector.fromArray(F, dout, o);
        bs = bs.add(d);
        a3 = a3.add(d.mul(FloatVector.fromArray(F, in, o)));
        o += c;
        d = FloatVector.fromArray(F, dout, o);
        bs = bs.add(d);
        a2 = a2.add(d.mul(FloatVector.fromArray(F, in, o - c)));
        a3 = a3.add(d.mul(FloatVector.fromArray(F, in, o)));
        o += c;
        d = FloatVector.fromArray(F, dout, o);
        bs = bs.add(d);
        a1 = a1.add(d.mul(FloatVector.fromArray(F, in, o - 2 * c)));
        a2 = a2.add(d.mul(FloatVector.fromArray(F, in, o - c)));
        a3 = a3.add(d.mul(FloatVector.fromArray(F, in, o)));
        for (int t = 3; t < seqLen; t++) {
            o += c;
            d = FloatVector.fromArray(F, dout, o);
            bs = bs.add(d);
            a0 = a0.add(d.mul(FloatVector.fromArray(F, in, o - 3 * c)));
            a1 = a1.add(d.mul(FloatVector.fromArray(F, in, o - 2 * c)));
            a2 = a2.add(d.mul(FloatVector.fromArray(F, in, o - c)));
            a3 = a3.add(d.mul(FloatVector.fromArray(F, in, o)));
        }
        a0.intoArray(sw, s);
        a1.intoArray(sw, nc + s);
        a2.intoArray(sw, 2 * nc + s);
        a3.intoArray(sw, 3 * nc + s);
        bs.intoArray(sb, s);
    }
}
