package parrot.backend.cpu;

import parrot.backend.cpu.common.Parallel;
import parrot.backend.cpu.common.Simd;

/**
 * The recurrence of a torch.nn.LSTM layer (gates i, f, g, o), forward, backpropagation through time and one
 * decoding step; see Backend#lstmForward. The input projection is a plain linear layer done beforehand, so
 * only the H×4H recurrent matrix-vector products are here: parallel over sequences, sequential over time. Their
 * rows are Simd.axpy calls (vector FMAs where the vector module is on: 1.2-1.3× the LSTM's training tokens/s
 * against the plain loops C2 left scalar).
 */
final class Lstm {
    private Lstm() {
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** whh [4H, H] → [H, 4H], so that a += h[k]·row k is a contiguous axpy. */
    private static float[] transpose(float[] whh, int hid) {
        int g = 4 * hid;
        float[] t = new float[g * hid];
        for (int j = 0; j < g; j++)
            for (int k = 0; k < hid; k++) t[k * g + j] = whh[j * hid + k];
        return t;
    }

    /** a[0..4H) = xProj row + bhh + W_hh·hPrev, then the cell update; writes gates, c and h of this row. */
    private static void cell(float[] a, float[] xProj, int xb, float[] bhh, float[] whhT, float[] hPrev, int hpb,
                             float[] cPrev, int cpb, boolean first, float[] gates, int gb, float[] cOut, int cob,
                             float[] hOut, int hob, int hid) {
        int g4 = 4 * hid;
        for (int j = 0; j < g4; j++) a[j] = xProj[xb + j] + (bhh == null ? 0f : bhh[j]);
        if (!first) {
            for (int k = 0; k < hid; k++) {
                float hk = hPrev[hpb + k];
                if (hk == 0f) continue;
                Simd.axpy(a, 0, hk, whhT, k * g4, g4);
            }
        }
        for (int k = 0; k < hid; k++) {
            float ig = sigmoid(a[k]), fg = sigmoid(a[hid + k]), gg = (float) Math.tanh(a[2 * hid + k]),
                    og = sigmoid(a[3 * hid + k]);
            float cp = first ? 0f : cPrev[cpb + k];
            float cn = fg * cp + ig * gg;
            if (gates != null) {
                gates[gb + k] = ig;
                gates[gb + hid + k] = fg;
                gates[gb + 2 * hid + k] = gg;
                gates[gb + 3 * hid + k] = og;
            }
            cOut[cob + k] = cn;
            hOut[hob + k] = og * (float) Math.tanh(cn);
        }
    }

    static void forward(float[] h, float[] c, float[] gates, float[] xProj, float[] whh, float[] bhh, int batch,
                        int seqLen, int hid) {
        float[] whhT = transpose(whh, hid);
        int g4 = 4 * hid;
        for (int t = 0; t < seqLen; t++) {
            final int tt = t;
            Parallel.forRange(batch, 1, (lo, hi) -> {
                float[] a = new float[g4];
                for (int b = lo; b < hi; b++) {
                    int row = b * seqLen + tt, prev = row - 1;
                    cell(a, xProj, row * g4, bhh, whhT, h, prev * hid, c, prev * hid, tt == 0, gates, row * g4, c,
                            row * hid, h, row * hid, hid);
                }
            });
        }
    }

    /** zeroFirst: dxProj is a deferred zero (CpuTensor.claimZero), filled chunk by chunk as dG is added. */
    static void backward(float[] dxProj, float[] dwhh, float[] dbhh, float[] dh, float[] h, float[] c,
                         float[] gates, float[] whh, int batch, int seqLen, int hid, boolean zeroFirst) {
        int g4 = 4 * hid, rows = batch * seqLen;
        float[] dG = new float[rows * g4];          // gradient of the gate pre-activations
        Parallel.forRange(batch, 1, (lo, hi) -> {
            float[] dhRec = new float[hid], dcCarry = new float[hid];
            for (int b = lo; b < hi; b++) {
                java.util.Arrays.fill(dhRec, 0f);
                java.util.Arrays.fill(dcCarry, 0f);
                for (int t = seqLen - 1; t >= 0; t--) {
                    int row = b * seqLen + t, gb = row * g4, hb = row * hid;
                    for (int k = 0; k < hid; k++) {
                        float ig = gates[gb + k], fg = gates[gb + hid + k], gg = gates[gb + 2 * hid + k],
                                og = gates[gb + 3 * hid + k];
                        float tc = (float) Math.tanh(c[hb + k]);
                        float dht = dh[hb + k] + dhRec[k];
                        float dc = dcCarry[k] + dht * og * (1f - tc * tc);
                        float cp = t == 0 ? 0f : c[hb - hid + k];
                        dG[gb + k] = dc * gg * ig * (1f - ig);
                        dG[gb + hid + k] = dc * cp * fg * (1f - fg);
                        dG[gb + 2 * hid + k] = dc * ig * (1f - gg * gg);
                        dG[gb + 3 * hid + k] = dht * tc * og * (1f - og);
                        dcCarry[k] = dc * fg;
                    }
                    java.util.Arrays.fill(dhRec, 0f);
                    if (t > 0) {
                        for (int j = 0; j < g4; j++) {
                            float g = dG[gb + j];
                            if (g == 0f) continue;
                            Simd.axpy(dhRec, 0, g, whh, j * hid, hid);
                        }
                    }
                }
            }
        });
        if (dxProj != null) Elementwise.accumulate(dxProj, dG, rows * g4, zeroFirst);
        if (dwhh != null || dbhh != null) {
            // gate-parallel: every weight sums over (sequence, time) in order
            Parallel.forRange(g4, 4, (lo, hi) -> {
                for (int j = lo; j < hi; j++) {
                    float sb = 0f;
                    int wb = j * hid;
                    for (int row = 0; row < rows; row++) {
                        float g = dG[row * g4 + j];
                        sb += g;
                        if (dwhh == null || g == 0f || row % seqLen == 0) continue;
                        Simd.axpy(dwhh, wb, g, h, (row - 1) * hid, hid);
                    }
                    if (dbhh != null) dbhh[j] += sb;
                }
            });
        }
    }

    static void step(float[] h, float[] c, float[] xProj, float[] whh, float[] bhh, int batch, int hid) {
        float[] whhT = transpose(whh, hid);
        int g4 = 4 * hid;
        Parallel.forRange(batch, 1, (lo, hi) -> {
            float[] a = new float[g4], hPrev = new float[hid];
            for (int b = lo; b < hi; b++) {
                System.arraycopy(h, b * hid, hPrev, 0, hid);
                cell(a, xProj, b * g4, bhh, whhT, hPrev, 0, c, b * hid, false, null, 0, c, b * hid, h, b * hid, hid);
            }
        });
    }
}
