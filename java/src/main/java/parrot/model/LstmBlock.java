package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.model.ParameterSet.Init;

/**
 * One layer of torch.nn.LSTM (gate order i, f, g, o), y = h_t for every t, not residual. Parameters are named
 * like torch.nn.LSTM's for layer l under {@code prefix}: {@code weight_ih_l<l>} [4H, in],
 * {@code weight_hh_l<l>} [4H, H], {@code bias_ih_l<l>}, {@code bias_hh_l<l>} [4H]; so a stack of these loads
 * into one {@code nn.LSTM(in, H, num_layers)} named by the prefix. Weights start uniform in ±1/√H (PyTorch's
 * default, and the reference code's intended init); biases 0 except the forget gate's b_ih = 1.
 * Training is backpropagation through time over the whole row (the recurrence saves h, c and the gates).
 */
public final class LstmBlock implements Block {
    private final Backend be;
    private final int in, hid;
    private final Parameter wih, whh, bih, bhh;

    private int batch, seqLen;
    private Tensor xProj, h, c, gates, dXProj;

    public LstmBlock(ParameterSet ps, String prefix, int layer, int inputWidth, int hidden) {
        this.be = ps.backend();
        this.in = inputWidth;
        this.hid = hidden;
        Init w = new Init.Uniform(1 / Math.sqrt(hidden));
        double[] forgetOne = new double[4 * hidden];
        for (int j = hidden; j < 2 * hidden; j++) forgetOne[j] = 1;
        wih = ps.add(prefix + "weight_ih_l" + layer, w, true, 4 * hidden, inputWidth);
        whh = ps.add(prefix + "weight_hh_l" + layer, w, true, 4 * hidden, hidden);
        bih = ps.add(prefix + "bias_ih_l" + layer, new Init.Values(forgetOne), false, 4 * hidden);
        bhh = ps.add(prefix + "bias_hh_l" + layer, new Init.Constant(0), false, 4 * hidden);
    }

    @Override
    public int outputWidth(int inputWidth) {
        if (inputWidth != in) throw new IllegalArgumentException("lstm layer of input width " + in + " fed width " + inputWidth);
        return hid;
    }

    @Override
    public void plan(int batch, int seqLen) {
        if (batch == this.batch && seqLen == this.seqLen) return;
        if (h != null) for (Tensor t : new Tensor[]{xProj, h, c, gates, dXProj}) be.release(t);
        this.batch = batch;
        this.seqLen = seqLen;
        int rows = batch * seqLen;
        xProj = be.zeros(rows, 4 * hid);
        h = be.zeros(rows, hid);
        c = be.zeros(rows, hid);
        gates = be.zeros(rows, 4 * hid);
        dXProj = be.zeros(rows, 4 * hid);
    }

    @Override
    public void forward(Tensor y, Tensor x) {
        be.linearForward(xProj, x, wih.value(), bih.value());
        be.lstmForward(h, c, gates, xProj, whh.value(), bhh.value(), batch, seqLen);
        be.copy(y, h);
    }

    @Override
    public void backward(Tensor dx, Tensor dy, Tensor x) {
        be.zero(dXProj);
        be.lstmBackward(dXProj, whh.grad(), bhh.grad(), dy, h, c, gates, whh.value(), batch, seqLen);
        be.linearBackward(dx, wih.grad(), bih.grad(), dXProj, x, wih.value());
    }

    /** Recurrent decoding: h and c [b, H]. */
    @Override
    public Step decoder(int b, int maxLen, DecodeMemory mem) {
        Tensor sh = mem.zeros(b, hid), sc = mem.zeros(b, hid), sx = mem.zeros(b, 4 * hid);
        return new Step() {
            @Override
            public void step(Tensor y, Tensor x, int pos) {
                be.linearForward(sx, x, wih.value(), bih.value());
                be.lstmStep(sh, sc, sx, whh.value(), bhh.value(), b);
                be.copy(y, sh);
            }

            @Override
            public boolean canPrefill() {
                return true;
            }

            /**
             * The input projection as one GEMM over the prompt and the training recurrence (from zero h, c); the
             * last position's h and c become the state, gathered by row (embeddingForward is a row gather).
             */
            @Override
            public void prefill(Tensor y, Tensor x, int len, DecodeMemory s) {
                int rows = b * len;
                Tensor xProj = s.zeros(rows, 4 * hid), cAll = s.zeros(rows, hid), gates = s.zeros(rows, 4 * hid);
                Tensor last = s.zerosInt(b);
                int[] idx = new int[b];
                for (int i = 0; i < b; i++) idx[i] = i * len + len - 1;
                be.uploadInts(last, idx);
                be.linearForward(xProj, x, wih.value(), bih.value());
                be.lstmForward(y, cAll, gates, xProj, whh.value(), bhh.value(), b, len);
                be.embeddingForward(sh, last, y);
                be.embeddingForward(sc, last, cAll);
            }
        };
    }
}
