package parrot.model;

import parrot.backend.AttentionSpec;
import parrot.backend.Backend;
import parrot.backend.RopeSpec;
import parrot.backend.Tensor;
import parrot.config.ModelConfig;
import parrot.model.ParameterSet.Init;

/**
 * A GPT-NeoX layer with parallel residual: y = x + dense(attn(rope(qkv(ln1(x))))) + mlp(ln2(x)).
 * Forward and backward are written out op by op (llm.c style); the positional scheme enters only through the
 * attention spec (windows, ALiBi slopes) and the optional rotary embedding.
 */
public final class TransformerBlock implements Block {
    private final Backend be;
    private final int c, hidden;
    private final double eps;
    private final AttentionSpec spec;
    private final RopeSpec rope;
    private final Parameter ln1w, ln1b, ln2w, ln2b, qkvW, qkvB, denseW, denseB, upW, upB, downW, downB;

    private int batch, seqLen;
    // activations saved for backward
    private Tensor h1, mean1, rstd1, qkv, qkvRot, lse, att, h2, mean2, rstd2, up, act;
    // gradient scratch
    private Tensor dAct, dUp, dH, dAtt, dQkvRot, dQkv;
    // forward scratch
    private Tensor attnOut, mlpOut;

    public TransformerBlock(ParameterSet ps, String prefix, ModelConfig m) {
        this.be = ps.backend();
        this.c = m.dModel();
        this.hidden = m.mlpSize();
        this.eps = m.layerNormEps();
        this.spec = Positional.attention(m);
        this.rope = Positional.rope(m);
        Init std = new Init.Normal(m.initStd()), one = new Init.Constant(1), zero = new Init.Constant(0);
        ln1w = ps.add(prefix + "input_layernorm.weight", one, false, c);
        ln1b = ps.add(prefix + "input_layernorm.bias", zero, false, c);
        ln2w = ps.add(prefix + "post_attention_layernorm.weight", one, false, c);
        ln2b = ps.add(prefix + "post_attention_layernorm.bias", zero, false, c);
        qkvW = ps.add(prefix + "attention.query_key_value.weight", std, true, 3 * c, c);
        qkvB = ps.add(prefix + "attention.query_key_value.bias", zero, false, 3 * c);
        denseW = ps.add(prefix + "attention.dense.weight", std, true, c, c);
        denseB = ps.add(prefix + "attention.dense.bias", zero, false, c);
        upW = ps.add(prefix + "mlp.dense_h_to_4h.weight", std, true, hidden, c);
        upB = ps.add(prefix + "mlp.dense_h_to_4h.bias", zero, false, hidden);
        downW = ps.add(prefix + "mlp.dense_4h_to_h.weight", std, true, c, hidden);
        downB = ps.add(prefix + "mlp.dense_4h_to_h.bias", zero, false, c);
    }

    public AttentionSpec attentionSpec() {
        return spec;
    }

    @Override
    public void plan(int batch, int seqLen) {
        if (batch == this.batch && seqLen == this.seqLen) return;
        releaseAll();
        this.batch = batch;
        this.seqLen = seqLen;
        int n = batch * seqLen;
        h1 = be.zeros(n, c);
        mean1 = be.zeros(n);
        rstd1 = be.zeros(n);
        qkv = be.zeros(n, 3 * c);
        qkvRot = rope != null ? be.zeros(n, 3 * c) : qkv;
        lse = be.zeros(batch, spec.heads(), seqLen);
        att = be.zeros(n, c);
        h2 = be.zeros(n, c);
        mean2 = be.zeros(n);
        rstd2 = be.zeros(n);
        up = be.zeros(n, hidden);
        act = be.zeros(n, hidden);
        attnOut = be.zeros(n, c);
        mlpOut = be.zeros(n, c);
        dAct = be.zeros(n, hidden);
        dUp = be.zeros(n, hidden);
        dH = be.zeros(n, c);
        dAtt = be.zeros(n, c);
        dQkvRot = be.zeros(n, 3 * c);
        dQkv = rope != null ? be.zeros(n, 3 * c) : dQkvRot;
    }

    private void releaseAll() {
        for (Tensor t : new Tensor[]{h1, mean1, rstd1, qkv, lse, att, h2, mean2, rstd2, up, act, attnOut, mlpOut,
                dAct, dUp, dH, dAtt, dQkvRot}) {
            if (t != null) be.release(t);
        }
        if (rope != null && qkvRot != null) {
            be.release(qkvRot);
            be.release(dQkv);
        }
    }

    @Override
    public void forward(Tensor y, Tensor x) {
        be.layerNormForward(h1, mean1, rstd1, x, ln1w.value(), ln1b.value(), eps);
        be.linearForward(qkv, h1, qkvW.value(), qkvB.value());
        if (rope != null) be.ropeForward(qkvRot, qkv, rope, batch, seqLen, 0);
        be.attentionForward(att, lse, qkvRot, spec, batch, seqLen);
        be.linearForward(attnOut, att, denseW.value(), denseB.value());

        be.layerNormForward(h2, mean2, rstd2, x, ln2w.value(), ln2b.value(), eps);
        be.linearForward(up, h2, upW.value(), upB.value());
        be.geluForward(act, up);
        be.linearForward(mlpOut, act, downW.value(), downB.value());

        be.add(y, x, attnOut);
        be.add(y, y, mlpOut);
    }

    @Override
    public void backward(Tensor dx, Tensor dy, Tensor x) {
        be.accumulate(dx, dy);                                   // the residual path

        be.zero(dAct);
        be.linearBackward(dAct, downW.grad(), downB.grad(), dy, act, downW.value());
        be.zero(dUp);
        be.geluBackward(dUp, dAct, up);
        be.zero(dH);
        be.linearBackward(dH, upW.grad(), upB.grad(), dUp, h2, upW.value());
        be.layerNormBackward(dx, ln2w.grad(), ln2b.grad(), dH, x, ln2w.value(), mean2, rstd2);

        be.zero(dAtt);
        be.linearBackward(dAtt, denseW.grad(), denseB.grad(), dy, att, denseW.value());
        be.zero(dQkvRot);
        be.attentionBackward(dQkvRot, dAtt, qkvRot, att, lse, spec, batch, seqLen);
        if (rope != null) {
            be.zero(dQkv);
            be.ropeBackward(dQkv, dQkvRot, rope, batch, seqLen, 0);
        }
        be.zero(dH);
        be.linearBackward(dH, qkvW.grad(), qkvB.grad(), dQkv, h1, qkvW.value());
        be.layerNormBackward(dx, ln1w.grad(), ln1b.grad(), dH, x, ln1w.value(), mean1, rstd1);
    }

    @Override
    public Step decoder(int b, int maxLen, DecodeMemory mem) {
        Tensor kCache = mem.zeros(b, spec.heads(), maxLen, spec.headDim());
        Tensor vCache = mem.zeros(b, spec.heads(), maxLen, spec.headDim());
        Tensor sH = mem.zeros(b, c), sMean = mem.zeros(b), sRstd = mem.zeros(b), sQkv = mem.zeros(b, 3 * c);
        Tensor sQkvRot = rope != null ? mem.zeros(b, 3 * c) : sQkv;
        Tensor sAtt = mem.zeros(b, c), sAttOut = mem.zeros(b, c), sUp = mem.zeros(b, hidden), sMlp = mem.zeros(b, c);
        return new Step() {
            @Override
            public void step(Tensor y, Tensor x, int pos) {
                be.layerNormForward(sH, sMean, sRstd, x, ln1w.value(), ln1b.value(), eps);
                be.linearForward(sQkv, sH, qkvW.value(), qkvB.value());
                if (rope != null) be.ropeForward(sQkvRot, sQkv, rope, b, 1, pos);
                be.attentionDecode(sAtt, sQkvRot, kCache, vCache, spec, b, pos);
                be.linearForward(sAttOut, sAtt, denseW.value(), denseB.value());
                be.layerNormForward(sH, sMean, sRstd, x, ln2w.value(), ln2b.value(), eps);
                be.linearForward(sUp, sH, upW.value(), upB.value());
                be.geluForward(sUp, sUp);
                be.linearForward(sMlp, sUp, downW.value(), downB.value());
                be.add(y, x, sAttOut);
                be.add(y, y, sMlp);
            }

            @Override
            public boolean canPrefill() {
                return true;
            }

            /** The training forward over the prompt (causal mask, windows, slopes, rotary from 0), caching k and v. */
            @Override
            public void prefill(Tensor y, Tensor x, int len, DecodeMemory s) {
                int rows = b * len;
                Tensor h = s.zeros(rows, c), mean = s.zeros(rows), rstd = s.zeros(rows), qkv = s.zeros(rows, 3 * c);
                Tensor qkvRot = rope != null ? s.zeros(rows, 3 * c) : qkv;
                Tensor lse = s.zeros(b, spec.heads(), len), att = s.zeros(rows, c), attOut = s.zeros(rows, c);
                Tensor up = s.zeros(rows, hidden);
                be.layerNormForward(h, mean, rstd, x, ln1w.value(), ln1b.value(), eps);
                be.linearForward(qkv, h, qkvW.value(), qkvB.value());
                if (rope != null) be.ropeForward(qkvRot, qkv, rope, b, len, 0);
                be.attentionFillCache(kCache, vCache, qkvRot, spec, b, len);
                be.attentionForward(att, lse, qkvRot, spec, b, len);
                be.linearForward(attOut, att, denseW.value(), denseB.value());
                be.layerNormForward(h, mean, rstd, x, ln2w.value(), ln2b.value(), eps);
                be.linearForward(up, h, upW.value(), upB.value());
                be.geluForward(up, up);
                be.linearForward(att, up, downW.value(), downB.value());      // att is free again: the MLP's output
                be.add(y, x, attOut);
                be.add(y, y, att);
            }
        };
    }
}
