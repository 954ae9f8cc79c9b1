package parrot.backend.cpu;

import parrot.backend.AdamWParams;
import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.backend.Tensor;
import parrot.backend.cpu.common.Parallel;

import static parrot.backend.cpu.CpuTensor.f;
import static parrot.backend.cpu.CpuTensor.fOrNull;
import static parrot.backend.cpu.CpuTensor.i;

/**
 * The reference backend: float32 host arrays, every op multithreaded and deterministic. The build generates
 * a float64 twin, parrot.backend.cpu.f64.CpuBackend, from this package's source for gradient checks.
 */
public final class CpuBackend implements Backend {
    private final int scanChunk;

    public CpuBackend() {
        this(64);
    }

    /** A backend whose selective-scan backward saves one state every scanChunk steps (tests use small ones). */
    public CpuBackend(int scanChunk) {
        if (scanChunk < 1) throw new IllegalArgumentException("scan chunk must be >= 1, got " + scanChunk);
        this.scanChunk = scanChunk;
    }

    @Override
    public String name() {
        return "cpu-" + dtype().name().toLowerCase() + " (" + Parallel.threads() + " threads)";
    }

    @Override
    public Tensor.DType dtype() {
        return Tensor.DType.F32;
    }

    @Override
    public Tensor zeros(int... shape) {
        return CpuTensor.floats(shape);
    }

    @Override
    public Tensor zerosInt(int... shape) {
        return CpuTensor.ints(shape);
    }

    @Override
    public void upload(Tensor dst, float/*keep*/[] src) {
        float[] d = f(dst);
        checkLength(dst, src.length);
        for (int k = 0; k < src.length; k++) d[k] = src[k];
    }

    @Override
    public void upload(Tensor dst, int dstOffset, float/*keep*/[] src, int srcOffset, int count) {
        float[] d = f(dst);
        java.util.Objects.checkFromIndexSize(dstOffset, count, d.length);
        java.util.Objects.checkFromIndexSize(srcOffset, count, src.length);
        for (int k = 0; k < count; k++) d[dstOffset + k] = src[srcOffset + k];
    }

    @Override
    public void upload(Tensor dst, double[] src) {
        float[] d = f(dst);
        checkLength(dst, src.length);
        for (int k = 0; k < src.length; k++) d[k] = (float) src[k];
    }

    @Override
    public void uploadInts(Tensor dst, int[] src) {
        int[] d = i(dst);
        checkLength(dst, src.length);
        System.arraycopy(src, 0, d, 0, src.length);
    }

    private static void checkLength(Tensor t, int n) {
        if (t.length() != n)
            throw new IllegalArgumentException("upload of " + n + " values into " + Tensor.describe(t));
    }

    @Override
    public float/*keep*/[] toFloats(Tensor src) {
        float[] s = f(src);
        float/*keep*/[] out = new float/*keep*/[s.length];
        for (int k = 0; k < s.length; k++) out[k] = (float/*keep*/) s[k];
        return out;
    }

    @Override
    public double[] toDoubles(Tensor src) {
        float[] s = f(src);
        double[] out = new double[s.length];
        for (int k = 0; k < s.length; k++) out[k] = s[k];
        return out;
    }

    @Override
    public int[] toInts(Tensor src) {
        return i(src).clone();
    }

    @Override
    public void zero(Tensor t) {
        CpuTensor c = (CpuTensor) t;
        if (c.data != null) c.zeroLater();                    // filled by the op that next writes it, or on use
        else java.util.Arrays.fill(c.ints, 0);
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        CpuTensor d = (CpuTensor) dst, s = (CpuTensor) src;
        if (d.length() != s.length() || d.dtype() != s.dtype())
            throw new IllegalArgumentException("copy " + Tensor.describe(src) + " into " + Tensor.describe(dst));
        if (s.data != null) System.arraycopy(f(s), 0, f(d), 0, s.data.length);
        else System.arraycopy(s.ints, 0, d.ints, 0, s.ints.length);
    }

    @Override
    public void add(Tensor out, Tensor a, Tensor b) {
        same(out, a, "add");
        same(out, b, "add");
        Elementwise.add(f(out), f(a), f(b), out.length());
    }

    @Override
    public void accumulate(Tensor dst, Tensor src) {
        same(dst, src, "accumulate");
        boolean zeroFirst = CpuTensor.claimZero(dst, src);
        Elementwise.accumulate(f(dst), f(src), dst.length(), zeroFirst);
    }

    @Override
    public void scale(Tensor t, double s) {
        Elementwise.scale(f(t), (float) s, t.length());
    }

    @Override
    public double sumSquares(Tensor t) {
        return Elementwise.sumSquares(f(t), t.length());
    }

    @Override
    public void geluForward(Tensor out, Tensor in) {
        same(out, in, "gelu");
        Gelu.forward(f(out), f(in), in.length());
    }

    @Override
    public void geluBackward(Tensor din, Tensor dout, Tensor in) {
        same(din, in, "gelu backward");
        boolean zeroFirst = CpuTensor.claimZero(din, dout, in);
        Gelu.backward(f(din), f(dout), f(in), in.length(), zeroFirst);
    }

    @Override
    public void embeddingForward(Tensor out, Tensor tokens, Tensor table) {
        CpuTensor o = (CpuTensor) out;
        Elementwise.embeddingForward(f(out), i(tokens), f(table), tokens.length(), o.cols(), table.dim(0));
    }

    @Override
    public void embeddingBackward(Tensor dtable, Tensor dout, Tensor tokens) {
        Elementwise.embeddingBackward(f(dtable), f(dout), i(tokens), tokens.length(), dtable.dim(-1));
    }

    @Override
    public void linearForward(Tensor out, Tensor in, Tensor weight, Tensor bias) {
        int no = weight.dim(0), ni = weight.dim(1), n = ((CpuTensor) in).rows();
        if (((CpuTensor) in).cols() != ni || out.length() != n * no)
            throw new IllegalArgumentException("linear: in " + Tensor.describe(in) + " · weight " + Tensor.describe(weight)
                    + "ᵀ does not fit out " + Tensor.describe(out));
        Linear.forward(f(out), f(in), f(weight), fOrNull(bias), n, ni, no);
    }

    @Override
    public void linearBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight) {
        int no = weight.dim(0), ni = weight.dim(1), n = ((CpuTensor) in).rows();
        boolean zeroFirst = CpuTensor.claimZero(din, dweight, dbias, dout, in, weight);
        Linear.backward(fOrNull(din), fOrNull(dweight), fOrNull(dbias), f(dout), f(in), f(weight), n, ni, no,
                zeroFirst);
    }

    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias,
                                 double eps) {
        CpuTensor x = (CpuTensor) in;
        LayerNorm.forward(f(out), f(mean), f(rstd), f(in), f(weight), fOrNull(bias), eps, x.rows(), x.cols());
    }

    @Override
    public void layerNormBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight,
                                  Tensor mean, Tensor rstd) {
        CpuTensor x = (CpuTensor) in;
        boolean zeroFirst = CpuTensor.claimZero(din, dweight, dbias, dout, in, weight, mean, rstd);
        LayerNorm.backward(fOrNull(din), fOrNull(dweight), fOrNull(dbias), f(dout), f(in), f(weight), f(mean),
                f(rstd), x.rows(), x.cols(), zeroFirst);
    }

    @Override
    public void ropeForward(Tensor out, Tensor qkv, RopeSpec spec, int batch, int seqLen, int posOffset) {
        same(out, qkv, "rope");
        Rope.apply(f(out), f(qkv), spec, batch, seqLen, posOffset, false);
    }

    @Override
    public void ropeBackward(Tensor dqkv, Tensor dout, RopeSpec spec, int batch, int seqLen, int posOffset) {
        same(dqkv, dout, "rope backward");
        Rope.apply(f(dqkv), f(dout), spec, batch, seqLen, posOffset, true);
    }

    @Override
    public void attentionForward(Tensor out, Tensor lse, Tensor qkv, AttentionSpec spec, int batch, int seqLen) {
        Attention.forward(f(out), f(lse), f(qkv), spec, batch, seqLen);
    }

    @Override
    public void attentionBackward(Tensor dqkv, Tensor dout, Tensor qkv, Tensor out, Tensor lse, AttentionSpec spec,
                                  int batch, int seqLen) {
        boolean zeroFirst = CpuTensor.claimZero(dqkv, dout, qkv, out, lse);
        Attention.backward(f(dqkv), f(dout), f(qkv), f(out), f(lse), spec, batch, seqLen, zeroFirst);
    }

    @Override
    public void attentionDecode(Tensor out, Tensor qkv, Tensor kCache, Tensor vCache, AttentionSpec spec, int batch,
                                int pos) {
        Attention.decode(f(out), f(qkv), f(kCache), f(vCache), spec, batch, pos, kCache.dim(2));
    }

    @Override
    public void attentionFillCache(Tensor kCache, Tensor vCache, Tensor qkv, AttentionSpec spec, int batch, int seqLen) {
        int w = spec.width();
        if (kCache.shape().length != 4 || kCache.dim(0) != batch || kCache.dim(1) != spec.heads()
                || kCache.dim(3) != spec.headDim() || vCache.length() != kCache.length() || kCache.dim(2) < seqLen
                || qkv.length() != batch * seqLen * 3 * w)
            throw new IllegalArgumentException("attention fill cache: caches " + Tensor.describe(kCache) + " / "
                    + Tensor.describe(vCache) + " and qkv " + Tensor.describe(qkv) + " do not fit batch " + batch
                    + " × " + seqLen + " with " + spec.heads() + " heads of " + spec.headDim());
        Attention.fillCache(f(kCache), f(vCache), f(qkv), spec, batch, seqLen, kCache.dim(2));
    }

    @Override
    public void copyColumns(Tensor dst, int dstCol, Tensor src, int srcCol, int width, boolean accumulate) {
        CpuTensor d = (CpuTensor) dst, s = (CpuTensor) src;
        if (d.rows() != s.rows() || dstCol < 0 || srcCol < 0 || width < 0 || dstCol + width > d.cols()
                || srcCol + width > s.cols())
            throw new IllegalArgumentException("copyColumns: " + width + " columns from " + srcCol + " of " + s
                    + " to " + dstCol + " of " + d);
        Elementwise.copyColumns(f(dst), d.cols(), dstCol, f(src), s.cols(), srcCol, width, d.rows(), accumulate);
    }

    @Override
    public void siluForward(Tensor out, Tensor in) {
        same(out, in, "silu");
        Silu.forward(f(out), f(in), in.length());
    }

    @Override
    public void siluBackward(Tensor din, Tensor dout, Tensor in) {
        same(din, in, "silu backward");
        same(dout, in, "silu backward");
        boolean zeroFirst = CpuTensor.claimZero(din, dout, in);
        Silu.backward(f(din), f(dout), f(in), in.length(), zeroFirst);
    }

    @Override
    public void negExpForward(Tensor out, Tensor in) {
        same(out, in, "negExp");
        Elementwise.negExpForward(f(out), f(in), in.length());
    }

    @Override
    public void negExpBackward(Tensor din, Tensor dout, Tensor out) {
        same(din, out, "negExp backward");
        same(dout, out, "negExp backward");
        Elementwise.negExpBackward(f(din), f(dout), f(out), out.length());
    }

    @Override
    public void rmsNormForward(Tensor out, Tensor rstd, Tensor in, Tensor weight, double eps) {
        CpuTensor x = (CpuTensor) in;
        same(out, in, "rmsNorm");
        RmsNorm.forward(f(out), f(rstd), f(in), f(weight), eps, x.rows(), x.cols());
    }

    @Override
    public void rmsNormBackward(Tensor din, Tensor dweight, Tensor dout, Tensor in, Tensor weight, Tensor rstd) {
        CpuTensor x = (CpuTensor) in;
        boolean zeroFirst = CpuTensor.claimZero(din, dweight, dout, in, weight, rstd);
        RmsNorm.backward(fOrNull(din), fOrNull(dweight), f(dout), f(in), f(weight), f(rstd), x.rows(), x.cols(),
                zeroFirst);
    }

    private static void convShapes(Tensor in, Tensor weight, Tensor bias, int rows, String op) {
        int c = weight.dim(0);
        if (in.length() != rows * c || (bias != null && bias.length() != c))
            throw new IllegalArgumentException(op + ": in " + Tensor.describe(in) + ", weight " + Tensor.describe(weight)
                    + (bias == null ? "" : ", bias " + Tensor.describe(bias)) + " for " + rows + " rows");
    }

    @Override
    public void conv1dForward(Tensor out, Tensor in, Tensor weight, Tensor bias, int batch, int seqLen) {
        convShapes(in, weight, bias, batch * seqLen, "conv1d");
        same(out, in, "conv1d");
        int c = weight.dim(0), k = weight.length() / c;
        Conv1d.forward(f(out), f(in), f(weight), fOrNull(bias), batch, seqLen, c, k);
    }

    @Override
    public void conv1dBackward(Tensor din, Tensor dweight, Tensor dbias, Tensor dout, Tensor in, Tensor weight,
                               int batch, int seqLen) {
        convShapes(in, weight, null, batch * seqLen, "conv1d backward");
        int c = weight.dim(0), k = weight.length() / c;
        boolean zeroFirst = CpuTensor.claimZero(din, dweight, dbias, dout, in, weight);
        Conv1d.backward(fOrNull(din), fOrNull(dweight), fOrNull(dbias), f(dout), f(in), f(weight), batch, seqLen, c, k,
                zeroFirst);
    }

    @Override
    public void conv1dStep(Tensor out, Tensor state, Tensor in, Tensor weight, Tensor bias, int batch) {
        convShapes(in, weight, bias, batch, "conv1d step");
        int c = weight.dim(0), k = weight.length() / c;
        if (state.length() != batch * c * (k - 1))
            throw new IllegalArgumentException("conv1d step: state " + Tensor.describe(state) + " is not [" + batch
                    + ", " + c + ", " + (k - 1) + "]");
        Conv1d.step(f(out), f(state), f(in), f(weight), fOrNull(bias), batch, c, k);
    }

    @Override
    public void conv1dFillState(Tensor state, Tensor in, Tensor weight, int batch, int seqLen) {
        convShapes(in, weight, null, batch * seqLen, "conv1d fill state");
        int c = weight.dim(0), k = weight.length() / c;
        if (state.length() != batch * c * (k - 1))
            throw new IllegalArgumentException("conv1d fill state: state " + Tensor.describe(state) + " is not [" + batch
                    + ", " + c + ", " + (k - 1) + "]");
        Conv1d.fillState(f(state), f(in), batch, seqLen, c, k);
    }

    @Override
    public int scanChunkLength() {
        return scanChunk;
    }

    private void scanShapes(Tensor ckpt, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor dSkip, Tensor z,
                            Tensor deltaBias, int batch, int seqLen, String op) {
        int d = a.dim(0), n = a.dim(1), rows = batch * seqLen;
        boolean ok = u.length() == rows * d && delta.length() == rows * d && b.length() == rows * n
                && c.length() == rows * n && (dSkip == null || dSkip.length() == d) && (z == null || z.length() == rows * d)
                && (deltaBias == null || deltaBias.length() == d)
                && (ckpt == null || ckpt.length() == batch * scanChunks(seqLen) * d * n);
        if (!ok)
            throw new IllegalArgumentException(op + ": shapes do not fit A " + Tensor.describe(a) + " for batch " + batch
                    + " × " + seqLen + " (u " + Tensor.describe(u) + ", delta " + Tensor.describe(delta) + ", B "
                    + Tensor.describe(b) + ", C " + Tensor.describe(c) + (ckpt == null ? "" : ", checkpoints "
                    + Tensor.describe(ckpt) + " (needs " + batch + "×" + scanChunks(seqLen) + "×" + d + "×" + n + ")") + ")");
    }

    @Override
    public void scanForward(Tensor out, Tensor checkpoints, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c,
                            Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        scanShapes(checkpoints, u, delta, a, b, c, dSkip, z, deltaBias, batch, seqLen, "scan");
        same(out, u, "scan");
        Scan.forward(f(out), f(checkpoints), f(u), f(delta), f(a), f(b), f(c), fOrNull(dSkip), fOrNull(z),
                fOrNull(deltaBias), softplus, batch, seqLen, a.dim(0), a.dim(1), scanChunk);
    }

    @Override
    public void scanBackward(Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc, Tensor dDSkip, Tensor dz,
                             Tensor dDeltaBias, Tensor dout, Tensor checkpoints, Tensor u, Tensor delta, Tensor a,
                             Tensor b, Tensor c, Tensor dSkip, Tensor z, Tensor deltaBias, boolean softplus, int batch,
                             int seqLen) {
        scanShapes(checkpoints, u, delta, a, b, c, dSkip, z, deltaBias, batch, seqLen, "scan backward");
        if ((dDSkip != null && dSkip == null) || (dz != null && z == null) || (dDeltaBias != null && deltaBias == null))
            throw new IllegalArgumentException("scan backward: a gradient was given for an input the forward did not have");
        boolean zeroFirst = CpuTensor.claimZeroAll(new Tensor[]{du, ddelta, da, db, dc, dz}, dDSkip, dDeltaBias, dout,
                checkpoints, u, delta, a, b, c, dSkip, z, deltaBias);
        Scan.backward(fOrNull(du), fOrNull(ddelta), fOrNull(da), fOrNull(db), fOrNull(dc), fOrNull(dDSkip), fOrNull(dz),
                fOrNull(dDeltaBias), f(dout), f(checkpoints), f(u), f(delta), f(a), f(b), f(c), fOrNull(dSkip),
                fOrNull(z), fOrNull(deltaBias), softplus, batch, seqLen, a.dim(0), a.dim(1), scanChunk, zeroFirst);
    }

    @Override
    public void scanStep(Tensor out, Tensor state, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor dSkip,
                         Tensor z, Tensor deltaBias, boolean softplus, int batch) {
        scanShapes(null, u, delta, a, b, c, dSkip, z, deltaBias, batch, 1, "scan step");
        if (state.length() != batch * a.length())
            throw new IllegalArgumentException("scan step: state " + Tensor.describe(state) + " is not [" + batch + ", "
                    + a.dim(0) + ", " + a.dim(1) + "]");
        Scan.step(f(out), f(state), f(u), f(delta), f(a), f(b), f(c), fOrNull(dSkip), fOrNull(z), fOrNull(deltaBias),
                softplus, batch, a.dim(0), a.dim(1));
    }

    @Override
    public void scanPrefill(Tensor out, Tensor state, Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor dSkip,
                            Tensor z, Tensor deltaBias, boolean softplus, int batch, int seqLen) {
        scanShapes(null, u, delta, a, b, c, dSkip, z, deltaBias, batch, seqLen, "scan prefill");
        same(out, u, "scan prefill");
        if (state.length() != batch * a.length())
            throw new IllegalArgumentException("scan prefill: state " + Tensor.describe(state) + " is not [" + batch + ", "
                    + a.dim(0) + ", " + a.dim(1) + "]");
        Scan.prefill(f(out), f(state), f(u), f(delta), f(a), f(b), f(c), fOrNull(dSkip), fOrNull(z), fOrNull(deltaBias),
                softplus, batch, seqLen, a.dim(0), a.dim(1));
    }

    private static int lstmHidden(Tensor whh, Tensor bhh, Tensor xProj, int rows, String op) {
        int hid = whh.dim(1);
        if (whh.dim(0) != 4 * hid || xProj.length() != rows * 4 * hid || (bhh != null && bhh.length() != 4 * hid))
            throw new IllegalArgumentException(op + ": W_hh " + Tensor.describe(whh) + " and input projection "
                    + Tensor.describe(xProj) + " do not fit " + rows + " rows");
        return hid;
    }

    @Override
    public void lstmForward(Tensor h, Tensor c, Tensor gates, Tensor xProj, Tensor whh, Tensor bhh, int batch,
                            int seqLen) {
        int hid = lstmHidden(whh, bhh, xProj, batch * seqLen, "lstm");
        same(gates, xProj, "lstm gates");
        Lstm.forward(f(h), f(c), f(gates), f(xProj), f(whh), fOrNull(bhh), batch, seqLen, hid);
    }

    @Override
    public void lstmBackward(Tensor dxProj, Tensor dwhh, Tensor dbhh, Tensor dh, Tensor h, Tensor c, Tensor gates,
                             Tensor whh, int batch, int seqLen) {
        int hid = lstmHidden(whh, null, gates, batch * seqLen, "lstm backward");
        boolean zeroFirst = CpuTensor.claimZero(dxProj, dwhh, dbhh, dh, h, c, gates, whh);
        Lstm.backward(fOrNull(dxProj), fOrNull(dwhh), fOrNull(dbhh), f(dh), f(h), f(c), f(gates), f(whh), batch,
                seqLen, hid, zeroFirst);
    }

    @Override
    public void lstmStep(Tensor h, Tensor c, Tensor xProj, Tensor whh, Tensor bhh, int batch) {
        int hid = lstmHidden(whh, bhh, xProj, batch, "lstm step");
        Lstm.step(f(h), f(c), f(xProj), f(whh), fOrNull(bhh), batch, hid);
    }

    @Override
    public double crossEntropy(Tensor dlogits, Tensor logits, Tensor targets, double gradScale) {
        CpuTensor l = (CpuTensor) logits;
        return CrossEntropy.forwardBackward(fOrNull(dlogits), f(logits), i(targets), (float) gradScale, l.rows(),
                l.cols());
    }

    @Override
    public void argmax(Tensor out, Tensor logits) {
        CpuTensor l = (CpuTensor) logits;
        Elementwise.argmax(i(out), f(logits), l.rows(), l.cols());
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams hp, double weightDecay, int step,
                      double lr) {
        AdamW.step(f(param), f(grad), f(m), f(v), hp, weightDecay, step, lr, param.length());
    }

    private static void same(Tensor a, Tensor b, String op) {
        if (a.length() != b.length())
            throw new IllegalArgumentException(op + ": " + Tensor.describe(a) + " and " + Tensor.describe(b) + " differ in size");
    }
}
