// Causal multi-head attention with per-head hard windows and ALiBi slopes (launcher: AttentionKernels.java).
// A simple, correct first version: one warp per query (or key) row, keys streamed with an online softmax, so
// there is no limit on the sequence length and no shared memory. The fused (flash) kernel is a later issue.
//
// Layouts (parrot.backend.Backend): qkv [B·T, H·3·hd], per head q | k | v side by side; out, dout [B·T, H·hd];
// lse, D [B, H, T]. Score(q, j) = (q·k_j)·scale − slope[h]·(q − j) for keys firstKey(h, q) ≤ j ≤ q, where
// firstKey = window[h] > 0 ? max(0, q − window[h] + 1) : 0.
//
// Launch shape: blockDim = (32, ATT_WARPS), one warp per row; head dim ≤ 32·ATT_MAX_DPL = 256.
#include "common.cuh"

#define ATT_MAX_DPL 8

__device__ __forceinline__ void att_load(float (&r)[ATT_MAX_DPL], const float* p, int hd, int lane) {
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) {
        const int d = lane + PARROT_WARP * j;
        r[j] = d < hd ? p[d] : 0.0f;
    }
}

// Full dot product of a lane-distributed vector with p[0..hd), identical in every lane.
__device__ __forceinline__ float att_dot(const float (&r)[ATT_MAX_DPL], const float* p, int hd, int lane) {
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) {
        const int d = lane + PARROT_WARP * j;
        if (d < hd) s = fmaf(r[j], p[d], s);
    }
    return warp_sum(s);
}

__device__ __forceinline__ int att_first_key(int window, int q) {
    return window > 0 ? max(0, q - window + 1) : 0;
}

// out = softmax(scores)·V, lse = log Σ exp(scores). One warp per (b, h, q); rows ordered b, h, q.
extern "C" __global__ void parrot_attention_forward_f32(float* out, float* lse, const float* qkv, int B, int T,
                                                        int H, int hd, float scale, HeadParams hp) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= (long long)B * H * T) return;
    const int lane = threadIdx.x;
    const int q = (int)(row % T);
    const int h = (int)((row / T) % H);
    const int b = (int)(row / ((long long)T * H));
    const int stride = 3 * H * hd;
    const float* base = qkv + (long long)b * T * stride + h * 3 * hd;  // q of (b, t=0, h)
    const float slope = hp.slope[h];
    const int first = att_first_key(hp.window[h], q);

    float qv[ATT_MAX_DPL], acc[ATT_MAX_DPL];
    att_load(qv, base + (long long)q * stride, hd, lane);
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) acc[j] = 0.0f;
    float m = -CUDART_INF_F, l = 0.0f;
    for (int key = first; key <= q; ++key) {
        const float* kr = base + (long long)key * stride + hd;
        const float* vr = kr + hd;
        const float s = att_dot(qv, kr, hd, lane) * scale - slope * (float)(q - key);
        if (s > m) {                                   // uniform across the warp
            const float corr = expf(m - s);
            l = l * corr + 1.0f;
#pragma unroll
            for (int j = 0; j < ATT_MAX_DPL; ++j) {
                const int d = lane + PARROT_WARP * j;
                if (d < hd) acc[j] = fmaf(acc[j], corr, vr[d]);
            }
            m = s;
        } else {
            const float p = expf(s - m);
            l += p;
#pragma unroll
            for (int j = 0; j < ATT_MAX_DPL; ++j) {
                const int d = lane + PARROT_WARP * j;
                if (d < hd) acc[j] = fmaf(p, vr[d], acc[j]);
            }
        }
    }
    const float inv = 1.0f / l;
    float* o = out + ((long long)b * T + q) * H * hd + h * hd;
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) {
        const int d = lane + PARROT_WARP * j;
        if (d < hd) o[d] = acc[j] * inv;
    }
    if (lane == 0) lse[row] = m + logf(l);
}

// Backward pre-pass: D[b, h, q] = Σ_d dout[q, d]·out[q, d] (= rowsum(dO ∘ O)).
extern "C" __global__ void parrot_attention_backward_pre_f32(float* D, const float* dout, const float* out, int B,
                                                             int T, int H, int hd) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= (long long)B * H * T) return;
    const int lane = threadIdx.x;
    const int q = (int)(row % T);
    const int h = (int)((row / T) % H);
    const int b = (int)(row / ((long long)T * H));
    const long long off = ((long long)b * T + q) * H * hd + h * hd;
    float s = 0.0f;
    for (int d = lane; d < hd; d += PARROT_WARP) s = fmaf(dout[off + d], out[off + d], s);
    s = warp_sum(s);
    if (lane == 0) D[row] = s;
}

// dq: one warp per query row. P = exp(s − lse), dP = dO·v, dS = P·(dP − D); dq += scale·Σ_j dS·k_j.
// Accumulates into the q slot of dqkv only.
extern "C" __global__ void parrot_attention_backward_dq_f32(float* dqkv, const float* dout, const float* qkv,
                                                            const float* lse, const float* D, int B, int T, int H,
                                                            int hd, float scale, HeadParams hp) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= (long long)B * H * T) return;
    const int lane = threadIdx.x;
    const int q = (int)(row % T);
    const int h = (int)((row / T) % H);
    const int b = (int)(row / ((long long)T * H));
    const int stride = 3 * H * hd;
    const long long headOff = (long long)b * T * stride + h * 3 * hd;
    const float* base = qkv + headOff;
    const float slope = hp.slope[h];
    const int first = att_first_key(hp.window[h], q);
    const float L = lse[row], Dq = D[row];

    float qv[ATT_MAX_DPL], dov[ATT_MAX_DPL], dq[ATT_MAX_DPL];
    att_load(qv, base + (long long)q * stride, hd, lane);
    att_load(dov, dout + ((long long)b * T + q) * H * hd + h * hd, hd, lane);
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) dq[j] = 0.0f;
    for (int key = first; key <= q; ++key) {
        const float* kr = base + (long long)key * stride + hd;
        const float* vr = kr + hd;
        const float s = att_dot(qv, kr, hd, lane) * scale - slope * (float)(q - key);
        const float p = expf(s - L);
        const float dp = att_dot(dov, vr, hd, lane);
        const float ds = p * (dp - Dq);
#pragma unroll
        for (int j = 0; j < ATT_MAX_DPL; ++j) {
            const int d = lane + PARROT_WARP * j;
            if (d < hd) dq[j] = fmaf(ds, kr[d], dq[j]);
        }
    }
    float* g = dqkv + headOff + (long long)q * stride;
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) {
        const int d = lane + PARROT_WARP * j;
        if (d < hd) g[d] += scale * dq[j];
    }
}

// dk, dv: one warp per key row j, walking the queries that see it (j ≤ q ≤ j + window − 1, or to T − 1).
// dk += scale·Σ_q dS·q, dv += Σ_q P·dO. Accumulates into the k and v slots of dqkv only.
extern "C" __global__ void parrot_attention_backward_dkv_f32(float* dqkv, const float* dout, const float* qkv,
                                                             const float* lse, const float* D, int B, int T, int H,
                                                             int hd, float scale, HeadParams hp) {
    const long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y;
    if (row >= (long long)B * H * T) return;
    const int lane = threadIdx.x;
    const int key = (int)(row % T);
    const int h = (int)((row / T) % H);
    const int b = (int)(row / ((long long)T * H));
    const int stride = 3 * H * hd;
    const long long headOff = (long long)b * T * stride + h * 3 * hd;
    const float* base = qkv + headOff;
    const float slope = hp.slope[h];
    const int w = hp.window[h];
    const int last = w > 0 ? min(T - 1, key + w - 1) : T - 1;
    const float* lseRow = lse + (row - key);              // lse[b, h, 0]
    const float* DRow = D + (row - key);

    float kv[ATT_MAX_DPL], vv[ATT_MAX_DPL], dk[ATT_MAX_DPL], dv[ATT_MAX_DPL];
    att_load(kv, base + (long long)key * stride + hd, hd, lane);
    att_load(vv, base + (long long)key * stride + 2 * hd, hd, lane);
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) dk[j] = dv[j] = 0.0f;
    for (int q = key; q <= last; ++q) {
        const float* qr = base + (long long)q * stride;
        const float* dor = dout + ((long long)b * T + q) * H * hd + h * hd;
        const float s = att_dot(kv, qr, hd, lane) * scale - slope * (float)(q - key);
        const float p = expf(s - lseRow[q]);
        const float dp = att_dot(vv, dor, hd, lane);
        const float ds = p * (dp - DRow[q]);
#pragma unroll
        for (int j = 0; j < ATT_MAX_DPL; ++j) {
            const int d = lane + PARROT_WARP * j;
            if (d < hd) {
                dk[j] = fmaf(ds, qr[d], dk[j]);
                dv[j] = fmaf(p, dor[d], dv[j]);
            }
        }
    }
    float* g = dqkv + headOff + (long long)key * stride;
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) {
        const int d = lane + PARROT_WARP * j;
        if (d < hd) {
            g[hd + d] += scale * dk[j];
            g[2 * hd + d] += dv[j];
        }
    }
}

// One decoding step. qkv [B, H·3·hd] holds the (rotated) projections of the token at position pos; its k and v
// go into the caches [B, H, maxLen, hd] at pos, then its q attends to cached keys firstKey(h, pos) .. pos.
// out [B, H·hd]. One warp per (b, h). Each lane reads back only the cache elements it wrote itself.
extern "C" __global__ void parrot_attention_decode_f32(float* out, const float* qkv, float* kCache, float* vCache,
                                                       int B, int H, int hd, int maxLen, int pos, float scale,
                                                       HeadParams hp) {
    const int id = blockIdx.x * blockDim.y + threadIdx.y;
    if (id >= B * H) return;
    const int lane = threadIdx.x;
    const int b = id / H, h = id % H;
    const float* src = qkv + (long long)b * 3 * H * hd + h * 3 * hd;
    float* kc = kCache + (long long)id * maxLen * hd;    // id == b·H + h
    float* vc = vCache + (long long)id * maxLen * hd;
    for (int d = lane; d < hd; d += PARROT_WARP) {
        kc[(long long)pos * hd + d] = src[hd + d];
        vc[(long long)pos * hd + d] = src[2 * hd + d];
    }
    __syncwarp();
    const float slope = hp.slope[h];
    const int first = att_first_key(hp.window[h], pos);
    float qv[ATT_MAX_DPL], acc[ATT_MAX_DPL];
    att_load(qv, src, hd, lane);
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) acc[j] = 0.0f;
    float m = -CUDART_INF_F, l = 0.0f;
    for (int key = first; key <= pos; ++key) {
        const float* kr = kc + (long long)key * hd;
        const float* vr = vc + (long long)key * hd;
        const float s = att_dot(qv, kr, hd, lane) * scale - slope * (float)(pos - key);
        if (s > m) {
            const float corr = expf(m - s);
            l = l * corr + 1.0f;
#pragma unroll
            for (int j = 0; j < ATT_MAX_DPL; ++j) {
                const int d = lane + PARROT_WARP * j;
                if (d < hd) acc[j] = fmaf(acc[j], corr, vr[d]);
            }
            m = s;
        } else {
            const float p = expf(s - m);
            l += p;
#pragma unroll
            for (int j = 0; j < ATT_MAX_DPL; ++j) {
                const int d = lane + PARROT_WARP * j;
                if (d < hd) acc[j] = fmaf(p, vr[d], acc[j]);
            }
        }
    }
    const float inv = 1.0f / l;
    float* o = out + (long long)b * H * hd + h * hd;
#pragma unroll
    for (int j = 0; j < ATT_MAX_DPL; ++j) {
        const int d = lane + PARROT_WARP * j;
        if (d < hd) o[d] = acc[j] * inv;
    }
}

// Prefill of a fresh KV cache: the k and v of positions 0..L−1 of qkv [B·L, H·3·hd] go into the caches
// [B, H, maxLen, hd], as L decoding steps would have written them (attention itself runs as in training).
// One thread per cached element.
extern "C" __global__ void parrot_attention_fill_cache_f32(float* kCache, float* vCache, const float* qkv, int B,
                                                           int H, int hd, int L, int maxLen) {
    PARROT_GRID_STRIDE(i, (long long)B * L * H * hd) {
        const int d = (int)(i % hd);
        const long long r = i / hd;                   // (b, t, h)
        const int h = (int)(r % H);
        const long long bt = r / H;                   // b·L + t
        const int t = (int)(bt % L), b = (int)(bt / L);
        const float* src = qkv + bt * 3 * H * hd + (long long)h * 3 * hd;
        const long long dst = (((long long)b * H + h) * maxLen + t) * hd + d;
        kCache[dst] = src[hd + d];
        vCache[dst] = src[2 * hd + d];
    }
}
