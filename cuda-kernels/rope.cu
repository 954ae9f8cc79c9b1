// GPT-NeoX rotary embedding on the fused qkv rows (launcher: RopeKernels.java).
// qkv row layout: per head h, q = [h·3hd, h·3hd+hd), k = next hd, v = next hd. The first `rot` dims of q and k
// are rotated "rotate_half" style: dim i pairs with i + rot/2, angle = pos · base^(-2i/rot), computed in double.
#include "common.cuh"

__device__ __forceinline__ void rope_angle(int pos, int i, int rot, double base, float* c, float* s) {
    const double invFreq = 1.0 / pow(base, (2.0 * i) / (double)rot);
    double sd, cd;
    sincos((double)pos * invFreq, &sd, &cd);
    *c = (float)cd;
    *s = (float)sd;
}

// out = rotate(qkv) for positions posOffset + (row mod T); v and the unrotated dims are copied. One thread per
// element; the thread of a pair's first dim writes both dims, so out may alias qkv.
extern "C" __global__ void parrot_rope_forward_f32(float* out, const float* qkv, int rows, int T, int H, int hd,
                                                   int rot, int posOffset, double base) {
    const int w3 = 3 * H * hd, hd3 = 3 * hd, half = rot / 2;
    const long long total = (long long)rows * w3;
    PARROT_GRID_STRIDE(i, total) {
        const int row = (int)(i / w3);
        const int rem = (int)(i % w3);
        const int d = rem % hd3;
        const int slot = d / hd, dd = d % hd;
        if (slot < 2 && dd < rot) {
            if (dd < half) {
                float c, s;
                rope_angle(posOffset + row % T, dd, rot, base, &c, &s);
                const float x1 = qkv[i], x2 = qkv[i + half];
                out[i] = x1 * c - x2 * s;
                out[i + half] = x2 * c + x1 * s;
            }
        } else {
            out[i] = qkv[i];
        }
    }
}

// dqkv += Rᵀ·dout on the rotated dims of q and k, dqkv += dout elsewhere (v included).
extern "C" __global__ void parrot_rope_backward_f32(float* dqkv, const float* dout, int rows, int T, int H, int hd,
                                                    int rot, int posOffset, double base) {
    const int w3 = 3 * H * hd, hd3 = 3 * hd, half = rot / 2;
    const long long total = (long long)rows * w3;
    PARROT_GRID_STRIDE(i, total) {
        const int row = (int)(i / w3);
        const int rem = (int)(i % w3);
        const int d = rem % hd3;
        const int slot = d / hd, dd = d % hd;
        if (slot < 2 && dd < rot) {
            if (dd < half) {
                float c, s;
                rope_angle(posOffset + row % T, dd, rot, base, &c, &s);
                const float g1 = dout[i], g2 = dout[i + half];
                dqkv[i] += g1 * c + g2 * s;
                dqkv[i + half] += g2 * c - g1 * s;
            }
        } else {
            dqkv[i] += dout[i];
        }
    }
}
