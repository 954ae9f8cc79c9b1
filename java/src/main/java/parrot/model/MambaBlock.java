package parrot.model;

import parrot.backend.Backend;
import parrot.backend.Tensor;
import parrot.config.ModelConfig;
import parrot.data.Rng;
import parrot.model.ParameterSet.Init;

/**
 * A Mamba block (Gu &amp; Dao; mamba_ssm's Mamba mixer inside a pre-norm residual block), y = x + mixer(norm(x)):
 * <pre>
 *   x, z  = in_proj(h)                       (no bias; d_inner = expand·d_model each)
 *   u     = silu(conv1d(x))                  (causal depthwise, kernel d_conv, with bias)
 *   dt, B, C = x_proj(u)                     (no bias; dt_rank, d_state, d_state)
 *   δ     = softplus(dt_proj.weight·dt + dt_proj.bias)
 *   y     = selective_scan(u, δ, A = −exp(A_log), B, C, D) · silu(z)
 *   out   = out_proj(y)                      (no bias)
 * </pre>
 * Parameters carry Hugging Face MambaForCausalLM names under {@code prefix} (backbone.layers.N.): norm.weight
 * (+ norm.bias for LayerNorm), mixer.in_proj.weight, mixer.conv1d.weight [d_inner, 1, d_conv], mixer.conv1d.bias,
 * mixer.x_proj.weight, mixer.dt_proj.weight, mixer.dt_proj.bias, mixer.A_log, mixer.D, mixer.out_proj.weight.
 * Initialisation follows mamba_ssm: torch's default Linear/Conv1d init, dt_proj.weight uniform ±dt_rank^−½,
 * dt_proj.bias = softplus⁻¹(dt) with dt log-uniform in [0.001, 0.1] (floor 1e−4), A_log = log(1..N) per
 * channel, D = 1, out_proj.weight further divided by √n_layers.
 *
 * <p>The scan's backward keeps only one state per channel every {@link Backend#scanChunkLength()} steps.
 */
public final class MambaBlock implements Block {
    static final double DT_MIN = 0.001, DT_MAX = 0.1, DT_FLOOR = 1e-4;

    private final Backend be;
    private final int c, di, n, k, r;
    private final Norm norm;
    private final Parameter inW, convW, convB, xW, dtW, dtB, aLog, dSkip, outW;

    private int batch, seqLen;
    // forward activations (saved for backward)
    private Tensor h, mean, rstd, xz, xs, z, xc, u, xdbl, dtIn, bm, cm, delta, a, y, o, ckpt;
    // gradient scratch
    private Tensor dY, du, dDelta, dBm, dCm, dA, dZ, dXdbl, dDtIn, dXc, dXs, dXz, dH;

    public MambaBlock(ParameterSet ps, String prefix, ModelConfig m) {
        this.be = ps.backend();
        this.c = m.dModel();
        this.di = m.dInner();
        this.n = m.dState();
        this.k = m.dConv();
        this.r = m.resolvedDtRank();
        norm = Norm.create(ps, prefix + "norm.", m.norm(), c, m.layerNormEps());
        String p = prefix + "mixer.";
        inW = ps.add(p + "in_proj.weight", new Init.Uniform(1 / Math.sqrt(c)), true, 2 * di, c);
        convW = ps.add(p + "conv1d.weight", new Init.Uniform(1 / Math.sqrt(k)), true, di, 1, k);
        convB = ps.add(p + "conv1d.bias", new Init.Uniform(1 / Math.sqrt(k)), false, di);
        xW = ps.add(p + "x_proj.weight", new Init.Uniform(1 / Math.sqrt(di)), true, r + 2 * n, di);
        dtW = ps.add(p + "dt_proj.weight", new Init.Uniform(1 / Math.sqrt(r)), true, di, r);
        dtB = ps.add(p + "dt_proj.bias", new Init.Values(dtBias(ps.rng(), di)), false, di);
        double[] alog = new double[di * n];
        for (int d = 0; d < di; d++) for (int s = 0; s < n; s++) alog[d * n + s] = Math.log(s + 1);
        aLog = ps.add(p + "A_log", new Init.Values(alog), false, di, n);
        dSkip = ps.add(p + "D", new Init.Constant(1), false, di);
        outW = ps.add(p + "out_proj.weight", new Init.Uniform(1 / Math.sqrt(di) / Math.sqrt(m.nLayers())), true, c, di);
    }

    /** softplus⁻¹(dt), dt = exp(U[log 0.001, log 0.1]) clamped to ≥ 1e−4 (mamba_ssm's dt_proj.bias). */
    static double[] dtBias(Rng rng, int di) {
        double[] v = new double[di];
        for (int d = 0; d < di; d++) {
            double dt = Math.exp(rng.nextDouble() * (Math.log(DT_MAX) - Math.log(DT_MIN)) + Math.log(DT_MIN));
            dt = Math.max(dt, DT_FLOOR);
            v[d] = dt + Math.log(-Math.expm1(-dt));
        }
        return v;
    }

    /** The tensor of saved scan states: [batch, ceil(seqLen/chunk), d_inner, d_state] (null before plan). */
    public Tensor scanCheckpoints() {
        return ckpt;
    }

    @Override
    public void plan(int batch, int seqLen) {
        if (batch == this.batch && seqLen == this.seqLen) return;
        if (h != null)
            for (Tensor t : new Tensor[]{h, mean, rstd, xz, xs, z, xc, u, xdbl, dtIn, bm, cm, delta, a, y, o, ckpt, dY, du,
                    dDelta, dBm, dCm, dA, dZ, dXdbl, dDtIn, dXc, dXs, dXz, dH})
                be.release(t);
        this.batch = batch;
        this.seqLen = seqLen;
        int rows = batch * seqLen;
        h = be.zeros(rows, c);
        mean = be.zeros(rows);
        rstd = be.zeros(rows);
        xz = be.zeros(rows, 2 * di);
        xs = be.zeros(rows, di);
        z = be.zeros(rows, di);
        xc = be.zeros(rows, di);
        u = be.zeros(rows, di);
        xdbl = be.zeros(rows, r + 2 * n);
        dtIn = be.zeros(rows, r);
        bm = be.zeros(rows, n);
        cm = be.zeros(rows, n);
        delta = be.zeros(rows, di);
        a = be.zeros(di, n);
        y = be.zeros(rows, di);
        o = be.zeros(rows, c);
        ckpt = be.zeros(batch, be.scanChunks(seqLen), di, n);
        dY = be.zeros(rows, di);
        du = be.zeros(rows, di);
        dDelta = be.zeros(rows, di);
        dBm = be.zeros(rows, n);
        dCm = be.zeros(rows, n);
        dA = be.zeros(di, n);
        dZ = be.zeros(rows, di);
        dXdbl = be.zeros(rows, r + 2 * n);
        dDtIn = be.zeros(rows, r);
        dXc = be.zeros(rows, di);
        dXs = be.zeros(rows, di);
        dXz = be.zeros(rows, 2 * di);
        dH = be.zeros(rows, c);
    }

    @Override
    public void forward(Tensor out, Tensor x) {
        norm.forward(h, mean, rstd, x);
        be.linearForward(xz, h, inW.value(), null);
        be.copyColumns(xs, 0, xz, 0, di, false);
        be.copyColumns(z, 0, xz, di, di, false);
        be.conv1dForward(xc, xs, convW.value(), convB.value(), batch, seqLen);
        be.siluForward(u, xc);
        be.linearForward(xdbl, u, xW.value(), null);
        be.copyColumns(dtIn, 0, xdbl, 0, r, false);
        be.copyColumns(bm, 0, xdbl, r, n, false);
        be.copyColumns(cm, 0, xdbl, r + n, n, false);
        be.linearForward(delta, dtIn, dtW.value(), null);     // dt_proj's bias enters the scan as delta_bias
        be.negExpForward(a, aLog.value());
        be.scanForward(y, ckpt, u, delta, a, bm, cm, dSkip.value(), z, dtB.value(), true, batch, seqLen);
        be.linearForward(o, y, outW.value(), null);
        be.add(out, x, o);
    }

    @Override
    public void backward(Tensor dx, Tensor dOut, Tensor x) {
        be.accumulate(dx, dOut);                                  // the residual path
        be.zero(dY);
        be.linearBackward(dY, outW.grad(), null, dOut, y, outW.value());
        for (Tensor t : new Tensor[]{du, dDelta, dBm, dCm, dA, dZ}) be.zero(t);
        be.scanBackward(du, dDelta, dA, dBm, dCm, dSkip.grad(), dZ, dtB.grad(), dY, ckpt, u, delta, a, bm, cm,
                dSkip.value(), z, dtB.value(), true, batch, seqLen);
        be.negExpBackward(aLog.grad(), dA, a);
        be.zero(dDtIn);
        be.linearBackward(dDtIn, dtW.grad(), null, dDelta, dtIn, dtW.value());
        be.copyColumns(dXdbl, 0, dDtIn, 0, r, false);
        be.copyColumns(dXdbl, r, dBm, 0, n, false);
        be.copyColumns(dXdbl, r + n, dCm, 0, n, false);
        be.linearBackward(du, xW.grad(), null, dXdbl, u, xW.value());   // u feeds both the scan and x_proj
        be.zero(dXc);
        be.siluBackward(dXc, du, xc);
        be.zero(dXs);
        be.conv1dBackward(dXs, convW.grad(), convB.grad(), dXc, xs, convW.value(), batch, seqLen);
        be.copyColumns(dXz, 0, dXs, 0, di, false);
        be.copyColumns(dXz, di, dZ, 0, di, false);
        be.zero(dH);
        be.linearBackward(dH, inW.grad(), null, dXz, h, inW.value());
        norm.backward(dx, dH, x, mean, rstd);
    }

    /** Recurrent decoding: a conv window [b, d_inner, d_conv−1] and an SSM state [b, d_inner, d_state]. */
    @Override
    public Step decoder(int b, int maxLen, DecodeMemory mem) {
        Tensor convState = mem.zeros(b, di, k - 1), ssm = mem.zeros(b, di, n);
        Tensor sH = mem.zeros(b, c), sMean = mem.zeros(b), sRstd = mem.zeros(b), sXz = mem.zeros(b, 2 * di);
        Tensor sXs = mem.zeros(b, di), sZ = mem.zeros(b, di), sXc = mem.zeros(b, di), sU = mem.zeros(b, di);
        Tensor sXdbl = mem.zeros(b, r + 2 * n), sDt = mem.zeros(b, r), sB = mem.zeros(b, n), sC = mem.zeros(b, n);
        Tensor sDelta = mem.zeros(b, di), sA = mem.zeros(di, n), sY = mem.zeros(b, di), sO = mem.zeros(b, c);
        return new Step() {
            @Override
            public void step(Tensor out, Tensor x, int pos) {
                norm.forward(sH, sMean, sRstd, x);
                be.linearForward(sXz, sH, inW.value(), null);
                be.copyColumns(sXs, 0, sXz, 0, di, false);
                be.copyColumns(sZ, 0, sXz, di, di, false);
                be.conv1dStep(sXc, convState, sXs, convW.value(), convB.value(), b);
                be.siluForward(sU, sXc);
                be.linearForward(sXdbl, sU, xW.value(), null);
                be.copyColumns(sDt, 0, sXdbl, 0, r, false);
                be.copyColumns(sB, 0, sXdbl, r, n, false);
                be.copyColumns(sC, 0, sXdbl, r + n, n, false);
                be.linearForward(sDelta, sDt, dtW.value(), null);
                be.negExpForward(sA, aLog.value());
                be.scanStep(sY, ssm, sU, sDelta, sA, sB, sC, dSkip.value(), sZ, dtB.value(), true, b);
                be.linearForward(sO, sY, outW.value(), null);
                be.add(out, x, sO);
            }

            @Override
            public boolean canPrefill() {
                return true;
            }

            /**
             * The projections as GEMMs over the prompt, conv1d over the sequence (its last d_conv−1 inputs become
             * the window), and the scan from the zero state, leaving h at the prompt's last position.
             */
            @Override
            public void prefill(Tensor out, Tensor x, int len, DecodeMemory s) {
                int rows = b * len;
                Tensor h = s.zeros(rows, c), mean = s.zeros(rows), rstd = s.zeros(rows), xz = s.zeros(rows, 2 * di);
                Tensor xs = s.zeros(rows, di), z = s.zeros(rows, di), xc = s.zeros(rows, di), u = s.zeros(rows, di);
                Tensor xdbl = s.zeros(rows, r + 2 * n), dt = s.zeros(rows, r), bm = s.zeros(rows, n);
                Tensor cm = s.zeros(rows, n), delta = s.zeros(rows, di), o = s.zeros(rows, c);
                norm.forward(h, mean, rstd, x);
                be.linearForward(xz, h, inW.value(), null);
                be.copyColumns(xs, 0, xz, 0, di, false);
                be.copyColumns(z, 0, xz, di, di, false);
                be.conv1dForward(xc, xs, convW.value(), convB.value(), b, len);
                be.conv1dFillState(convState, xs, convW.value(), b, len);
                be.siluForward(u, xc);
                be.linearForward(xdbl, u, xW.value(), null);
                be.copyColumns(dt, 0, xdbl, 0, r, false);
                be.copyColumns(bm, 0, xdbl, r, n, false);
                be.copyColumns(cm, 0, xdbl, r + n, n, false);
                be.linearForward(delta, dt, dtW.value(), null);
                be.negExpForward(sA, aLog.value());
                be.scanPrefill(xc, ssm, u, delta, sA, bm, cm, dSkip.value(), z, dtB.value(), true, b, len);  // xc: free
                be.linearForward(o, xc, outW.value(), null);
                be.add(out, x, o);
            }
        };
    }
}
