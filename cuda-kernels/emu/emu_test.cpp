// Runs parrot's CUDA kernels in the host emulator (emu.h) against naive double-precision references, on small
// random shapes including odd sizes; the references' backward formulas are themselves checked by finite
// differences. Launch shapes mirror the Java launchers (parrot.backend.cuda.*Kernels).
// Build and run: make -f cuda.mk kernels-emu-test (needs only g++).
#include "../elementwise.cu"
#include "../embedding.cu"
#include "../linear.cu"
#include "../layernorm.cu"
#include "../rope.cu"
#include "../attention.cu"
#include "../flash_attention.cu"
#include "../crossentropy.cu"
#include "../optimizer.cu"

#define EMU_TEST_SEED 1234
#include "harness.h"


static dim3 ewGrid(long long n) { return dim3((unsigned)std::min<long long>(8192, std::max(1LL, (n + 255) / 256))); }
static unsigned blocks(long long n, int d) { return (unsigned)std::max(1LL, (n + d - 1) / d); }

// ---- elementwise ---------------------------------------------------------------------------------------------

static void testElementwise() {
    for (int n : {1, 7, 256, 1000, 4099}) {
        std::string tag = " n=" + std::to_string(n);
        vf a = randn(n), b = randn(n), out = nans(n), x = randn(n, 3.0);
        emu::launch(parrot_add_f32, ewGrid(n), dim3(256), out.data(), (const float*)a.data(), (const float*)b.data(), n);
        vd r(n);
        for (int i = 0; i < n; ++i) r[i] = (double)a[i] + b[i];
        check("add" + tag, r, out, 1e-7);
        vf acc = a;
        emu::launch(parrot_accumulate_f32, dim3(2), dim3(256), acc.data(), (const float*)b.data(), n);  // grid-stride
        check("accumulate (grid-stride)" + tag, r, acc, 1e-7);
        vf sc = a;
        emu::launch(parrot_scale_f32, ewGrid(n), dim3(256), sc.data(), -0.37f, n);
        for (int i = 0; i < n; ++i) r[i] = a[i] * (double)-0.37f;
        check("scale" + tag, r, sc, 1e-7);
        vf g = nans(n);
        emu::launch(parrot_gelu_forward_f32, ewGrid(n), dim3(256), g.data(), (const float*)x.data(), n);
        for (int i = 0; i < n; ++i) r[i] = 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0)));
        check("gelu forward" + tag, r, g, 1e-6);
        vf din = a;
        emu::launch(parrot_gelu_backward_f32, ewGrid(n), dim3(256), din.data(), (const float*)b.data(),
                    (const float*)x.data(), n);
        for (int i = 0; i < n; ++i) {
            double xi = x[i], h = 1e-4;
            auto f = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
            r[i] = a[i] + b[i] * (f(xi + h) - f(xi - h)) / (2 * h);   // finite difference of the forward
        }
        check("gelu backward (accumulating, vs finite diff)" + tag, r, din, 1e-5);
    }
    for (int n : {1, 7, 256, 257, 4099, 300001}) {
        vf x = randn(n);
        int blocksN = std::min(1024, (int)blocks(n, 256));
        vd partials(1024, NAN), result(1, NAN);
        emu::launch(parrot_sum_squares_partial_f32, dim3(blocksN), dim3(256), partials.data(), (const float*)x.data(), n);
        emu::launch(parrot_sum_finalize_f64, dim3(1), dim3(256), result.data(), (const double*)partials.data(), blocksN);
        double r = 0;
        for (float v : x) r += (double)v * v;
        checkScalar("sumSquares n=" + std::to_string(n), r, result[0], 1e-12);
        vd xd = widen(x), result2(1, NAN);
        emu::launch(parrot_sum_partial_f64, dim3(blocksN), dim3(256), partials.data(), (const double*)xd.data(), n);
        emu::launch(parrot_sum_finalize_f64, dim3(1), dim3(256), result2.data(), (const double*)partials.data(), blocksN);
        double s = 0;
        for (float v : x) s += v;
        checkScalar("sum f64 n=" + std::to_string(n), s, result2[0], 1e-9);
    }
}

// ---- embedding -----------------------------------------------------------------------------------------------

static void testEmbedding() {
    for (auto s : vector<vector<int>>{{1, 1, 1}, {7, 5, 3}, {130, 30, 64}, {61, 100, 67}, {40, 300, 5}}) {
        int N = s[0], V = s[1], C = s[2];
        std::string tag = " N,V,C=" + std::to_string(N) + "," + std::to_string(V) + "," + std::to_string(C);
        vector<int> tok(N);
        for (int i = 0; i < N; ++i) tok[i] = i % 5 == 0 ? V - 1 : (int)(rng() % V);
        vf table = randn((size_t)V * C), out = nans((size_t)N * C);
        emu::launch(parrot_embedding_forward_f32, dim3(N), dim3(128), out.data(), (const int*)tok.data(),
                    (const float*)table.data(), N, C, V);
        vd r((size_t)N * C);
        for (int n = 0; n < N; ++n)
            for (int c = 0; c < C; ++c) r[(size_t)n * C + c] = table[(size_t)tok[n] * C + c];
        check("embedding forward" + tag, r, out, 0);
        vf dout = randn((size_t)N * C), dt = randn((size_t)V * C);
        vd rd = widen(dt);
        for (int n = 0; n < N; ++n)
            for (int c = 0; c < C; ++c) rd[(size_t)tok[n] * C + c] += dout[(size_t)n * C + c];
        int slices = std::min(V, 64), slice = (V + slices - 1) / slices, gy = (V + slice - 1) / slice;
        emu::launch(parrot_embedding_backward_f32, dim3(blocks(C, 128), gy), dim3(128), dt.data(),
                    (const float*)dout.data(), (const int*)tok.data(), N, C, V, slice);
        check("embedding backward" + tag, rd, dt, 1e-6);
    }
    vector<int> bad{-1, 3};
    vf table = randn(6), out = nans(4);
    emu::launch(parrot_embedding_forward_f32, dim3(2), dim3(128), out.data(), (const int*)bad.data(),
                (const float*)table.data(), 2, 2, 3);
    expect("embedding: out-of-range token gives NaN", std::isnan(out[0]) && std::isnan(out[1]) && std::isnan(out[2]));
}

// ---- linear / GEMM ---------------------------------------------------------------------------------------------

static void gemm(vf& C, const vf& A, const vf& B, int M, int N, int K, int lda, int ldb, int ldc, bool tA, bool tB,
                 float alpha, float beta) {
    emu::launch(parrot_gemm_f32, dim3(blocks(N, 64), blocks(M, 64)), dim3(256), C.data(), (const float*)A.data(),
                (const float*)B.data(), M, N, K, lda, ldb, ldc, (int)tA, (int)tB, alpha, beta);
}

static void testLinear() {
    for (auto s : vector<vector<int>>{{1, 1, 1}, {7, 5, 3}, {33, 64, 65}, {130, 67, 129}, {65, 17, 64}}) {
        int N = s[0], I = s[1], O = s[2];
        std::string tag = " N,I,O=" + std::to_string(N) + "," + std::to_string(I) + "," + std::to_string(O);
        vf x = randn((size_t)N * I), w = randn((size_t)O * I, 0.1), b = randn(O), out = nans((size_t)N * O);
        gemm(out, x, w, N, O, I, I, I, O, false, true, 1.f, 0.f);   // forward: beta 0 must ignore the NaN
        emu::launch(parrot_bias_add_f32, ewGrid((long long)N * O), dim3(256), out.data(), (const float*)b.data(), N, O);
        vd r((size_t)N * O);
        for (int n = 0; n < N; ++n)
            for (int o = 0; o < O; ++o) {
                double acc = b[o];
                for (int i = 0; i < I; ++i) acc += (double)x[(size_t)n * I + i] * w[(size_t)o * I + i];
                r[(size_t)n * O + o] = acc;
            }
        check("linear forward (gemm N,T + bias)" + tag, r, out, 1e-5);
        vf dout = randn((size_t)N * O), din = randn((size_t)N * I), dw = randn((size_t)O * I), db = randn(O);
        vd rdin = widen(din), rdw = widen(dw), rdb = widen(db);
        for (int n = 0; n < N; ++n)
            for (int o = 0; o < O; ++o) {
                double g = dout[(size_t)n * O + o];
                rdb[o] += g;
                for (int i = 0; i < I; ++i) {
                    rdin[(size_t)n * I + i] += g * w[(size_t)o * I + i];
                    rdw[(size_t)o * I + i] += g * x[(size_t)n * I + i];
                }
            }
        gemm(din, dout, w, N, I, O, O, I, I, false, false, 1.f, 1.f);
        gemm(dw, dout, x, O, I, N, O, I, I, true, false, 1.f, 1.f);
        emu::launch(parrot_bias_grad_f32, dim3(blocks(O, 32)), dim3(32, 8), db.data(), (const float*)dout.data(), N, O);
        check("linear din (gemm N,N, beta 1)" + tag, rdin, din, 1e-5);
        check("linear dweight (gemm T,N, beta 1)" + tag, rdw, dw, 1e-5);
        check("linear dbias" + tag, rdb, db, 1e-5);
        // the remaining layout, A and B both transposed, with alpha and beta
        vf a2 = randn((size_t)I * N), b2 = randn((size_t)O * I), c2 = randn((size_t)N * O);
        vd r2((size_t)N * O);
        for (int m = 0; m < N; ++m)
            for (int n = 0; n < O; ++n) {
                double acc = 0;
                for (int k = 0; k < I; ++k) acc += (double)a2[(size_t)k * N + m] * b2[(size_t)n * I + k];
                r2[(size_t)m * O + n] = 0.5 * acc - 2.0 * c2[(size_t)m * O + n];
            }
        gemm(c2, a2, b2, N, O, I, N, I, O, true, true, 0.5f, -2.f);
        check("gemm T,T alpha beta" + tag, r2, c2, 1e-5);
    }
}

// ---- layernorm -----------------------------------------------------------------------------------------------

static void lnRef(const vd& x, const vd& w, const vd& b, int N, int C, double eps, vd& out, vd& mean, vd& rstd) {
    out.assign((size_t)N * C, 0);
    mean.assign(N, 0);
    rstd.assign(N, 0);
    for (int n = 0; n < N; ++n) {
        double mu = 0, var = 0;
        for (int c = 0; c < C; ++c) mu += x[(size_t)n * C + c];
        mu /= C;
        for (int c = 0; c < C; ++c) var += (x[(size_t)n * C + c] - mu) * (x[(size_t)n * C + c] - mu);
        var /= C;
        double rs = 1 / std::sqrt(var + eps);
        mean[n] = mu;
        rstd[n] = rs;
        for (int c = 0; c < C; ++c) out[(size_t)n * C + c] = (x[(size_t)n * C + c] - mu) * rs * w[c] + b[c];
    }
}

static void testLayerNorm() {
    for (auto s : vector<vector<int>>{{1, 1}, {7, 5}, {33, 64}, {13, 67}, {3, 1030}}) {
        int N = s[0], C = s[1];
        std::string tag = " N,C=" + std::to_string(N) + "," + std::to_string(C);
        vf x = randn((size_t)N * C, 3.0, 2.0), w = randn(C), b = randn(C);
        vf out = nans((size_t)N * C), mean = nans(N), rstd = nans(N);
        emu::launch(parrot_layernorm_forward_f32, dim3(blocks(N, 4)), dim3(32, 4), out.data(), mean.data(), rstd.data(),
                    (const float*)x.data(), (const float*)w.data(), (const float*)b.data(), N, C, 1e-5f);
        vd ro, rm, rr;
        lnRef(widen(x), widen(w), widen(b), N, C, 1e-5, ro, rm, rr);
        check("layernorm out" + tag, ro, out, 1e-5);
        check("layernorm mean" + tag, rm, mean, 1e-6);
        check("layernorm rstd" + tag, rr, rstd, 1e-5);
        // backward vs finite differences of L = Σ dout·out
        vf dout = randn((size_t)N * C), din = randn((size_t)N * C), dw = randn(C), db = randn(C);
        vd rdin = widen(din), rdw = widen(dw), rdb = widen(db);
        auto loss = [&](const vd& xx, const vd& ww, const vd& bb) {
            vd o, m, r;
            lnRef(xx, ww, bb, N, C, 1e-5, o, m, r);
            double L = 0;
            for (size_t i = 0; i < o.size(); ++i) L += dout[i] * o[i];
            return L;
        };
        vd xd = widen(x), wd = widen(w), bd = widen(b);
        const double h = 1e-6;
        for (size_t i = 0; i < xd.size(); ++i) {
            vd xp = xd, xm = xd;
            xp[i] += h;
            xm[i] -= h;
            rdin[i] += (loss(xp, wd, bd) - loss(xm, wd, bd)) / (2 * h);
        }
        for (int c = 0; c < C; ++c) {
            vd wp = wd, wm = wd, bp = bd, bm = bd;
            wp[c] += h;
            wm[c] -= h;
            bp[c] += h;
            bm[c] -= h;
            rdw[c] += (loss(xd, wp, bd) - loss(xd, wm, bd)) / (2 * h);
            rdb[c] += (loss(xd, wd, bp) - loss(xd, wd, bm)) / (2 * h);
        }
        emu::launch(parrot_layernorm_backward_dx_f32, dim3(blocks(N, 4)), dim3(32, 4), din.data(),
                    (const float*)dout.data(), (const float*)x.data(), (const float*)w.data(), (const float*)mean.data(),
                    (const float*)rstd.data(), N, C);
        emu::launch(parrot_layernorm_backward_dwdb_f32, dim3(blocks(C, 32)), dim3(32, 8), dw.data(), db.data(),
                    (const float*)dout.data(), (const float*)x.data(), (const float*)mean.data(),
                    (const float*)rstd.data(), N, C);
        check("layernorm din (vs finite diff)" + tag, rdin, din, 1e-4);
        check("layernorm dweight (vs finite diff)" + tag, rdw, dw, 1e-4);
        check("layernorm dbias (vs finite diff)" + tag, rdb, db, 1e-4);
    }
}

// ---- rope ------------------------------------------------------------------------------------------------------

static vd ropeRef(const vd& qkv, int rows, int T, int H, int hd, int rot, int off, double base) {
    vd out = qkv;
    int half = rot / 2, w3 = 3 * H * hd;
    for (int r = 0; r < rows; ++r)
        for (int h = 0; h < H; ++h)
            for (int slot = 0; slot < 2; ++slot)
                for (int i = 0; i < half; ++i) {
                    size_t p = (size_t)r * w3 + h * 3 * hd + slot * hd + i;
                    double ang = (off + r % T) * (1.0 / std::pow(base, 2.0 * i / rot));
                    double x1 = qkv[p], x2 = qkv[p + half];
                    out[p] = x1 * std::cos(ang) - x2 * std::sin(ang);
                    out[p + half] = x2 * std::cos(ang) + x1 * std::sin(ang);
                }
    return out;
}

static void testRope() {
    for (auto s : vector<vector<int>>{{1, 1, 1, 8}, {2, 5, 3, 16}, {1, 7, 2, 40}, {2, 3, 2, 64}}) {
        int B = s[0], T = s[1], H = s[2], hd = s[3];
        for (int rot : {hd / 4 - (hd / 4) % 2, hd}) {
            for (int off : {0, 5, 999}) {
                std::string tag = " B,T,H,hd=" + std::to_string(B) + "," + std::to_string(T) + "," + std::to_string(H) +
                                  "," + std::to_string(hd) + " rot=" + std::to_string(rot) + " off=" + std::to_string(off);
                int rows = B * T;
                size_t n = (size_t)rows * 3 * H * hd;
                vf qkv = randn(n), out = nans(n);
                emu::launch(parrot_rope_forward_f32, ewGrid(n), dim3(256), out.data(), (const float*)qkv.data(), rows, T,
                            H, hd, rot, off, 10000.0);
                vd r = ropeRef(widen(qkv), rows, T, H, hd, rot, off, 10000.0);
                check("rope forward" + tag, r, out, 1e-6);
                vf inplace = qkv;
                emu::launch(parrot_rope_forward_f32, ewGrid(n), dim3(256), inplace.data(), (const float*)inplace.data(),
                            rows, T, H, hd, rot, off, 10000.0);
                check("rope forward in place" + tag, r, inplace, 1e-6);
                // backward = transpose of the (linear) forward: <R x, g> = <x, Rᵀ g> for basis x
                vf dout = randn(n), dq = randn(n);
                vd rd = widen(dq);
                vd e(n, 0.0);
                for (size_t i = 0; i < n; ++i) {
                    e[i] = 1;
                    vd y = ropeRef(e, rows, T, H, hd, rot, off, 10000.0);
                    double acc = 0;
                    for (size_t j = 0; j < n; ++j) acc += y[j] * dout[j];
                    rd[i] += acc;
                    e[i] = 0;
                    if (n > 4000) break;                 // keep the O(n²) check small
                }
                emu::launch(parrot_rope_backward_f32, ewGrid(n), dim3(256), dq.data(), (const float*)dout.data(), rows, T,
                            H, hd, rot, off, 10000.0);
                if (n <= 4000) check("rope backward (vs transpose)" + tag, rd, dq, 1e-6);
            }
        }
    }
}

// ---- attention -------------------------------------------------------------------------------------------------

struct Att {
    int B, T, H, hd;
    vector<int> win;
    vd slope;
};

static int firstKey(const Att& a, int h, int q) { return a.win[h] > 0 ? std::max(0, q - a.win[h] + 1) : 0; }

static void attRef(const Att& a, const vd& qkv, vd& out, vd& lse) {
    int W = a.H * a.hd, st = 3 * W;
    double scale = 1 / std::sqrt((double)(float)a.hd);
    out.assign((size_t)a.B * a.T * W, 0);
    lse.assign((size_t)a.B * a.H * a.T, 0);
    for (int b = 0; b < a.B; ++b)
        for (int h = 0; h < a.H; ++h)
            for (int q = 0; q < a.T; ++q) {
                const double* qv = &qkv[((size_t)b * a.T + q) * st + h * 3 * a.hd];
                vd s;
                double mx = -INFINITY;
                for (int j = firstKey(a, h, q); j <= q; ++j) {
                    const double* kv = &qkv[((size_t)b * a.T + j) * st + h * 3 * a.hd + a.hd];
                    double d = 0;
                    for (int i = 0; i < a.hd; ++i) d += qv[i] * kv[i];
                    s.push_back(d * scale - (double)(float)a.slope[h] * (q - j));
                    mx = std::max(mx, s.back());
                }
                double se = 0;
                for (double v : s) se += std::exp(v - mx);
                double L = mx + std::log(se);
                lse[((size_t)b * a.H + h) * a.T + q] = L;
                int k = 0;
                for (int j = firstKey(a, h, q); j <= q; ++j, ++k) {
                    const double* vv = &qkv[((size_t)b * a.T + j) * st + h * 3 * a.hd + 2 * a.hd];
                    double p = std::exp(s[k] - L);
                    for (int i = 0; i < a.hd; ++i) out[((size_t)b * a.T + q) * W + h * a.hd + i] += p * vv[i];
                }
            }
}

static HeadParams headParams(const Att& a) {
    HeadParams hp{};
    for (int h = 0; h < a.H; ++h) {
        hp.window[h] = a.win[h];
        hp.slope[h] = (float)a.slope[h];
    }
    return hp;
}

static void testAttention() {
    for (auto s : vector<vector<int>>{{1, 1, 1, 8}, {2, 9, 3, 16}, {1, 13, 2, 40}, {1, 6, 2, 70}}) {
        for (int variant = 0; variant < 4; ++variant) {
            Att a{s[0], s[1], s[2], s[3], vector<int>(s[2], 0), vd(s[2], 0.0)};
            for (int h = 0; h < a.H; ++h) {
                if (variant == 1 || variant == 3) a.slope[h] = std::pow(2.0, -8.0 * (h + 1) / a.H);
                if ((variant == 2 || variant == 3) && h < (a.H + 1) / 2) a.win[h] = h + 1 + (variant == 3 ? 2 : 0);
            }
            std::string tag = " B,T,H,hd=" + std::to_string(a.B) + "," + std::to_string(a.T) + "," + std::to_string(a.H) +
                              "," + std::to_string(a.hd) + " variant=" + std::to_string(variant);
            int W = a.H * a.hd, rows = a.B * a.H * a.T;
            size_t nq = (size_t)a.B * a.T * 3 * W;
            vf qkv = randn(nq), out = nans((size_t)a.B * a.T * W), lse = nans(rows);
            float scale = (float)(1.0 / std::sqrt((double)a.hd));
            HeadParams hp = headParams(a);
            emu::launch(parrot_attention_forward_f32, dim3(blocks(rows, 4)), dim3(32, 4), out.data(), lse.data(),
                        (const float*)qkv.data(), a.B, a.T, a.H, a.hd, scale, hp);
            vd ro, rl;
            attRef(a, widen(qkv), ro, rl);
            check("attention out" + tag, ro, out, 1e-5);
            check("attention lse" + tag, rl, lse, 1e-5);
            // backward vs finite differences of L = Σ dout·out(qkv)
            vf dout = randn(out.size()), dqkv = randn(nq);
            vd rd = widen(dqkv), base = widen(qkv);
            auto loss = [&](const vd& x) {
                vd o, l;
                attRef(a, x, o, l);
                double L = 0;
                for (size_t i = 0; i < o.size(); ++i) L += dout[i] * o[i];
                return L;
            };
            for (size_t i = 0; i < nq; ++i) {
                vd xp = base, xm = base;
                xp[i] += 1e-5;
                xm[i] -= 1e-5;
                rd[i] += (loss(xp) - loss(xm)) / 2e-5;
            }
            vd D(rows, NAN);
            vf Df = nans(rows);
            emu::launch(parrot_attention_backward_pre_f32, dim3(blocks(rows, 4)), dim3(32, 4), Df.data(),
                        (const float*)dout.data(), (const float*)out.data(), a.B, a.T, a.H, a.hd);
            emu::launch(parrot_attention_backward_dq_f32, dim3(blocks(rows, 4)), dim3(32, 4), dqkv.data(),
                        (const float*)dout.data(), (const float*)qkv.data(), (const float*)lse.data(),
                        (const float*)Df.data(), a.B, a.T, a.H, a.hd, scale, hp);
            emu::launch(parrot_attention_backward_dkv_f32, dim3(blocks(rows, 4)), dim3(32, 4), dqkv.data(),
                        (const float*)dout.data(), (const float*)qkv.data(), (const float*)lse.data(),
                        (const float*)Df.data(), a.B, a.T, a.H, a.hd, scale, hp);
            check("attention dqkv (accumulating, vs finite diff)" + tag, rd, dqkv, 2e-4);
            // decode, step by step, against the full forward; caches must end up holding every k and v
            int maxLen = a.T + 2;
            vf kc((size_t)a.B * a.H * maxLen * a.hd, 0.f), vc = kc;
            for (int pos = 0; pos < a.T; ++pos) {
                vf step((size_t)a.B * 3 * W), o = nans((size_t)a.B * W);
                for (int b = 0; b < a.B; ++b)
                    std::copy_n(&qkv[((size_t)b * a.T + pos) * 3 * W], 3 * W, &step[(size_t)b * 3 * W]);
                emu::launch(parrot_attention_decode_f32, dim3(blocks(a.B * a.H, 4)), dim3(32, 4), o.data(),
                            (const float*)step.data(), kc.data(), vc.data(), a.B, a.H, a.hd, maxLen, pos, scale, hp);
                vd want((size_t)a.B * W);
                for (int b = 0; b < a.B; ++b)
                    std::copy_n(&ro[((size_t)b * a.T + pos) * W], W, &want[(size_t)b * W]);
                check("attention decode pos=" + std::to_string(pos) + tag, want, o, 1e-5);
            }
            bool cacheOk = true;
            for (int b = 0; b < a.B; ++b)
                for (int h = 0; h < a.H; ++h)
                    for (int t = 0; t < maxLen; ++t)
                        for (int i = 0; i < a.hd; ++i) {
                            size_t c = (((size_t)b * a.H + h) * maxLen + t) * a.hd + i;
                            size_t q = ((size_t)b * a.T + t) * 3 * W + h * 3 * a.hd;
                            float wk = t < a.T ? qkv[q + a.hd + i] : 0.f, wv = t < a.T ? qkv[q + 2 * a.hd + i] : 0.f;
                            cacheOk &= kc[c] == wk && vc[c] == wv;
                        }
            expect("attention decode caches" + tag, cacheOk);
            // prefill writes the same caches in one launch (positions past T stay as they were)
            vf kp((size_t)a.B * a.H * maxLen * a.hd, 0.f), vp = kp;
            emu::launch(parrot_attention_fill_cache_f32, ewGrid((long long)a.B * a.T * W), dim3(256), kp.data(), vp.data(),
                        (const float*)qkv.data(), a.B, a.H, a.hd, a.T, maxLen);
            expect("attention fill cache equals the decode steps' caches" + tag, kp == kc && vp == vc);
        }
    }
}

#include "flash_attention_test.h"

// ---- cross-entropy, argmax, adamw ------------------------------------------------------------------------------

static void testCrossEntropy() {
    for (auto s : vector<vector<int>>{{1, 1}, {7, 5}, {20, 30}, {3, 4099}}) {
        int N = s[0], V = s[1];
        std::string tag = " N,V=" + std::to_string(N) + "," + std::to_string(V);
        vf x = randn((size_t)N * V, 4.0), g = nans((size_t)N * V);
        vector<int> t(N);
        for (int i = 0; i < N; ++i) t[i] = i % 3 == 1 ? -1 : (int)(rng() % V);
        vd rowLoss(N, NAN);
        float gs = 0.125f;
        emu::launch(parrot_cross_entropy_f32, dim3(N), dim3(256), rowLoss.data(), g.data(), (const float*)x.data(),
                    (const int*)t.data(), N, V, gs);
        double total = 0;
        vd rg((size_t)N * V, 0.0);
        for (int n = 0; n < N; ++n) {
            if (t[n] < 0) continue;
            double mx = -INFINITY, se = 0;
            for (int v = 0; v < V; ++v) mx = std::max(mx, (double)x[(size_t)n * V + v]);
            for (int v = 0; v < V; ++v) se += std::exp(x[(size_t)n * V + v] - mx);
            double lse = mx + std::log(se);
            total += lse - x[(size_t)n * V + t[n]];
            for (int v = 0; v < V; ++v) rg[(size_t)n * V + v] = gs * (std::exp(x[(size_t)n * V + v] - lse) - (v == t[n]));
        }
        double got = 0;
        for (double l : rowLoss) got += l;
        checkScalar("crossEntropy loss" + tag, total, got, 1e-6);
        check("crossEntropy dlogits" + tag, rg, g, 1e-6);
        vd rowLoss2(N, NAN);
        emu::launch(parrot_cross_entropy_f32, dim3(N), dim3(256), rowLoss2.data(), (float*)nullptr,
                    (const float*)x.data(), (const int*)t.data(), N, V, gs);
        expect("crossEntropy without dlogits gives the same losses" + tag, rowLoss == rowLoss2);
    }
}

static void testArgmax() {
    for (auto s : vector<vector<int>>{{1, 1}, {7, 5}, {13, 30}, {3, 4099}}) {
        int N = s[0], V = s[1];
        vf x = randn((size_t)N * V);
        for (int n = 0; n < N; ++n) {
            x[(size_t)n * V + rng() % V] = 10.f;
            x[(size_t)n * V + rng() % V] = 10.f;
        }
        vector<int> out(N, -7);
        emu::launch(parrot_argmax_f32, dim3(N), dim3(256), out.data(), (const float*)x.data(), N, V);
        bool ok = true;
        for (int n = 0; n < N; ++n) {
            int best = 0;
            for (int v = 1; v < V; ++v)
                if (x[(size_t)n * V + v] > x[(size_t)n * V + best]) best = v;
            ok &= out[n] == best;
        }
        expect("argmax lowest index on ties N,V=" + std::to_string(N) + "," + std::to_string(V), ok);
    }
}

static void testAdamW() {
    for (int n : {1, 7, 1000}) {
        vf p = randn(n), m = randn(n, 0.1), v = randn(n, 0.01);
        for (auto& e : v) e = std::fabs(e);
        vd rp = widen(p), rm = widen(m), rv = widen(v);
        double b1 = 0.9, b2 = 0.95, eps = 1e-8, lr = 1e-3, wd = 0.1;
        for (int step = 1; step <= 3; ++step) {
            vf g = randn(n);
            double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
            for (int i = 0; i < n; ++i) {
                rp[i] *= 1 - lr * wd;
                rm[i] = b1 * rm[i] + (1 - b1) * g[i];
                rv[i] = b2 * rv[i] + (1 - b2) * g[i] * g[i];
                rp[i] -= lr / bc1 * rm[i] / (std::sqrt(rv[i]) / std::sqrt(bc2) + eps);
            }
            emu::launch(parrot_adamw_f32, ewGrid(n), dim3(256), p.data(), (const float*)g.data(), m.data(), v.data(), n,
                        (float)(1 - lr * wd), (float)b1, (float)b2, (float)eps, (float)(lr / bc1), (float)std::sqrt(bc2));
        }
        check("adamw param n=" + std::to_string(n), rp, p, 1e-5);
        check("adamw m n=" + std::to_string(n), rm, m, 1e-5);
        check("adamw v n=" + std::to_string(n), rv, v, 1e-5);
    }
}

// EMU_ONLY=name[,name…] runs only those tests (names as below, e.g. EMU_ONLY=flash_attention).
static bool selected(const char* name) {
    const char* only = std::getenv("EMU_ONLY");
    if (only == nullptr || *only == 0) return true;
    const std::string list = std::string(",") + only + ",";
    return list.find(std::string(",") + name + ",") != std::string::npos;
}

int main() {
    const std::pair<const char*, void (*)()> tests[] = {
        {"elementwise", testElementwise}, {"embedding", testEmbedding}, {"linear", testLinear},
        {"layernorm", testLayerNorm}, {"rope", testRope}, {"attention", testAttention},
        {"flash_attention", testFlashAttention}, {"crossentropy", testCrossEntropy}, {"argmax", testArgmax},
        {"adamw", testAdamW}};
    for (const auto& t : tests)
        if (selected(t.first)) t.second();
    std::printf("kernels-emu-test: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
