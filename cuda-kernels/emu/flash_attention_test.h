// Fused attention (flash_attention.cu) in the emulator: every kernel — FP32, and the BF16/TF32 tensor-core kernels
// through the emulated mma.sync fragment layouts — against float64 references, for every positional scheme
// (NoPE, ALiBi, Hard-ALiBi windows including window 1 and windows longer than the sequence, mixed), head dims
// 32/64/128 with the kernels' own tiles and small/odd ones (padded), odd lengths 1, 7, 63, 65, 130; plus the tile
// counters (the kernels visit exactly the tiles holding a visible element and mask exactly the tiles holding an
// invisible one) and split-KV decoding across chunk boundaries. Included by emu_test.cpp (uses its helpers).
//
// Launch shapes mirror AttentionKernels.java. The reduced matrix runs under the random and greedy schedules (they
// look for missing barriers, which do not depend on the scheme); the full one under inorder.

enum class FaPrec { F32, BF16, TF32 };

static const char* faPrecName(FaPrec p) { return p == FaPrec::F32 ? "f32" : p == FaPrec::BF16 ? "bf16" : "tf32"; }

static int faHdp(int hd) { return hd <= 32 ? 32 : hd <= 64 ? 64 : hd <= 128 ? 128 : 256; }
static int faBr(int hdp) { return hdp <= 128 ? 64 : 32; }
static int faBc(int hdp) { return hdp <= 64 ? 64 : 32; }

typedef void (*FaFwd)(float*, float*, const float*, int, int, int, int, float, HeadParams);
typedef void (*FaBwd)(float*, const float*, const float*, const float*, const float*, int, int, int, int, float,
                      HeadParams);

struct FaKernels {
    FaFwd fwd;
    FaBwd bwd;
    int fwdThreads, bwdThreads;
};

static FaKernels faKernels(FaPrec p, int hdp) {
    if (p == FaPrec::F32) {
        switch (hdp) {
            case 32: return {parrot_flash_attention_forward_hd32_f32, parrot_flash_attention_backward_hd32_f32, 128, 128};
            case 64: return {parrot_flash_attention_forward_hd64_f32, parrot_flash_attention_backward_hd64_f32, 128, 128};
            case 128: return {parrot_flash_attention_forward_hd128_f32, parrot_flash_attention_backward_hd128_f32, 256, 128};
            default: return {parrot_flash_attention_forward_hd256_f32, parrot_flash_attention_backward_hd256_f32, 256, 256};
        }
    }
    if (p == FaPrec::BF16) {
        switch (hdp) {
            case 32: return {parrot_flash_attention_forward_hd32_bf16, parrot_flash_attention_backward_hd32_bf16, 128, 128};
            case 64: return {parrot_flash_attention_forward_hd64_bf16, parrot_flash_attention_backward_hd64_bf16, 128, 128};
            default: return {parrot_flash_attention_forward_hd128_bf16, parrot_flash_attention_backward_hd128_bf16, 128, 64};
        }
    }
    switch (hdp) {
        case 32: return {parrot_flash_attention_forward_hd32_tf32, parrot_flash_attention_backward_hd32_tf32, 128, 128};
        case 64: return {parrot_flash_attention_forward_hd64_tf32, parrot_flash_attention_backward_hd64_tf32, 128, 128};
        default: return {parrot_flash_attention_forward_hd128_tf32, parrot_flash_attention_backward_hd128_tf32, 128, 64};
    }
}

static Att faSpec(const std::string& scheme, int B, int T, int hd) {
    const int H = 4;
    Att a{B, T, H, hd, vector<int>(H, 0), vd(H, 0.0)};
    if (scheme == "alibi") {
        for (int h = 0; h < H; ++h) a.slope[h] = std::pow(2.0, -8.0 * (h + 1) / H);
    } else if (scheme == "window1") {
        a.win = {1, 1, 1, 1};
    } else if (scheme == "hard-alibi") {
        a.win = {1, 2, 0, 0};
    } else if (scheme == "windows") {
        a.win = {3, 17, 64, 66};
    } else if (scheme == "wide") {
        a.win = {131, 500, 1000, 129};
    } else if (scheme == "mixed") {
        a.win = {1, 0, 9, 1000};
        a.slope = {0, 0.5, 0.1, 0.03};
    }
    return a;
}

// Analytic float64 gradient of L = Σ dout·out, accumulated into dqkv.
static void attBwdRef(const Att& a, const vd& qkv, const vd& dout, vd& dqkv) {
    vd out, lse;
    attRef(a, qkv, out, lse);
    const int W = a.H * a.hd, st = 3 * W;
    const double scale = 1 / std::sqrt((double)(float)a.hd);
    for (int b = 0; b < a.B; ++b)
        for (int h = 0; h < a.H; ++h)
            for (int q = 0; q < a.T; ++q) {
                const size_t qo = ((size_t)b * a.T + q) * st + h * 3 * a.hd, oo = ((size_t)b * a.T + q) * W + h * a.hd;
                double D = 0;
                for (int i = 0; i < a.hd; ++i) D += dout[oo + i] * out[oo + i];
                const double L = lse[((size_t)b * a.H + h) * a.T + q];
                for (int j = firstKey(a, h, q); j <= q; ++j) {
                    const size_t ko = ((size_t)b * a.T + j) * st + h * 3 * a.hd + a.hd, vo = ko + a.hd;
                    double s = 0, dp = 0;
                    for (int i = 0; i < a.hd; ++i) {
                        s += qkv[qo + i] * qkv[ko + i];
                        dp += dout[oo + i] * qkv[vo + i];
                    }
                    const double p = std::exp(s * scale - (double)(float)a.slope[h] * (q - j) - L);
                    const double ds = p * (dp - D);
                    for (int i = 0; i < a.hd; ++i) {
                        dqkv[qo + i] += scale * ds * qkv[ko + i];
                        dqkv[ko + i] += scale * ds * qkv[qo + i];
                        dqkv[vo + i] += p * dout[oo + i];
                    }
                }
            }
}

static float faRound(FaPrec p, float x) {
    if (p == FaPrec::BF16) return __uint_as_float((fa_bf16x2(x, 0.0f) & 0xffffu) << 16);
    if (p == FaPrec::TF32) return fa_tf32(x);
    return x;
}

// (qt, kt) tiles with a visible element, and those of them with an invisible one (padding included).
static void faTileCounts(const Att& a, int br, int bc, long long& tiles, long long& masked) {
    tiles = masked = 0;
    const int nQt = (a.T + br - 1) / br, nKt = (a.T + bc - 1) / bc;
    for (int h = 0; h < a.H; ++h)
        for (int qt = 0; qt < nQt; ++qt)
            for (int kt = 0; kt < nKt; ++kt) {
                bool any = false, hole = false;
                for (int q = qt * br; q < qt * br + br; ++q)
                    for (int k = kt * bc; k < kt * bc + bc; ++k) {
                        const bool vis = q < a.T && k <= q && (a.win[h] <= 0 || k > q - a.win[h]);
                        any |= vis;
                        hole |= !vis;
                    }
                tiles += any ? a.B : 0;
                masked += any && hole ? a.B : 0;
            }
}

static double faWorst = 0;   // the largest relative error seen per precision class, for the summary line
static std::string faWorstWhat;
static double faRawOut = 0, faRawGrad = 0;   // BF16/TF32 against the reference of the unrounded inputs

static double faRelErr(const vd& ref, const vf& got) {
    double maxRef = 0, maxErr = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        maxRef = std::max(maxRef, std::fabs(ref[i]));
        maxErr = std::max(maxErr, std::isfinite(got[i]) ? std::fabs(got[i] - ref[i]) : INFINITY);
    }
    return maxErr / std::max(maxRef, 1e-12);
}

static void faCheck(const std::string& what, const vd& ref, const vf& got, double tol) {
    double maxRef = 0, maxErr = 0;
    for (double v : ref) maxRef = std::max(maxRef, std::fabs(v));
    for (size_t i = 0; i < ref.size(); ++i) {
        const double e = std::isfinite(got[i]) ? std::fabs(got[i] - ref[i]) : INFINITY;
        maxErr = std::max(maxErr, e);
    }
    const double rel = maxErr / std::max(maxRef, 1e-12);
    if (rel / tol > faWorst) {
        faWorst = rel / tol;
        faWorstWhat = what + " rel " + std::to_string(rel);
    }
    check(what, ref, got, tol);
}

static void runFaCase(const std::string& scheme, int T, int hd, FaPrec prec, bool decode) {
    const int B = 2;
    Att a = faSpec(scheme, B, T, hd);
    const int H = a.H, W = H * hd, rows = B * H * T, hdp = faHdp(hd), br = faBr(hdp), bc = faBc(hdp);
    const FaKernels kn = faKernels(prec, hdp);
    const std::string tag = std::string(" ") + faPrecName(prec) + " " + scheme + " T=" + std::to_string(T) +
                            " hd=" + std::to_string(hd);
    const size_t nq = (size_t)B * T * 3 * W;
    vf qkv = randn(nq), out = nans((size_t)B * T * W), lse = nans(rows);
    const float scale = (float)(1.0 / std::sqrt((double)hd));
    const HeadParams hp = headParams(a);
    fa_counters = FaCounters();
    emu::launch(kn.fwd, dim3(B * H, blocks(T, br)), dim3(kn.fwdThreads), out.data(), lse.data(),
                (const float*)qkv.data(), B, T, H, hd, scale, hp);
    vd rq(nq);                                           // the reference sees the operands the kernel multiplies
    for (size_t i = 0; i < nq; ++i) rq[i] = faRound(prec, qkv[i]);
    vd ro, rl;
    attRef(a, rq, ro, rl);
    const double tolOut = prec == FaPrec::F32 ? 1e-5 : prec == FaPrec::TF32 ? 2e-3 : 1e-2;
    const double tolGrad = prec == FaPrec::F32 ? 5e-5 : prec == FaPrec::TF32 ? 4e-3 : 2e-2;
    faCheck("flash forward out" + tag, ro, out, tolOut);
    if (prec != FaPrec::F32) {                           // what a float32/float64 reference sees (GPU parity test)
        vd ru, rlu;
        attRef(a, widen(qkv), ru, rlu);
        faRawOut = std::max(faRawOut, std::max(faRelErr(ru, out), faRelErr(rlu, lse)));
    }
    faCheck("flash forward lse" + tag, rl, lse, tolOut);
    long long tiles, masked;
    faTileCounts(a, br, bc, tiles, masked);
    expect("flash forward visits exactly the tiles with a visible element" + tag, fa_counters.forwardTiles == tiles);
    expect("flash forward masks exactly the tiles with an invisible element" + tag,
           fa_counters.forwardMaskedTiles == masked);

    vf dout = randn(out.size()), dqkv = randn(nq), Dv = nans(rows);
    const vf dqkv0 = dqkv;
    vd rd = widen(dqkv), rdo(dout.size());
    for (size_t i = 0; i < dout.size(); ++i) rdo[i] = faRound(prec, dout[i]);
    attBwdRef(a, rq, rdo, rd);
    emu::launch(parrot_flash_attention_backward_pre_f32, dim3(blocks(rows, 4)), dim3(32, 4), Dv.data(),
                (const float*)dout.data(), (const float*)out.data(), B, T, H, hd);
    emu::launch(kn.bwd, dim3(B * H, blocks(T, bc)), dim3(kn.bwdThreads), dqkv.data(), (const float*)dout.data(),
                (const float*)qkv.data(), (const float*)lse.data(), (const float*)Dv.data(), B, T, H, hd, scale, hp);
    faCheck("flash backward dqkv (accumulating)" + tag, rd, dqkv, tolGrad);
    if (prec != FaPrec::F32) {
        vd ru = widen(dqkv0);
        attBwdRef(a, widen(qkv), widen(dout), ru);
        faRawGrad = std::max(faRawGrad, faRelErr(ru, dqkv));
    }
    faTileCounts(a, br, bc, tiles, masked);
    expect("flash backward visits exactly the tiles with a visible element" + tag, fa_counters.backwardTiles == tiles);
    expect("flash backward masks exactly the tiles with an invisible element" + tag,
           fa_counters.backwardMaskedTiles == masked);
    if (!decode) return;

    // split-KV decoding, token by token; chunk boundaries at 128 (T = 130 crosses one)
    vd rf, rlf;
    attRef(a, widen(qkv), rf, rlf);
    const int maxLen = T + 3;
    vf kc((size_t)B * H * maxLen * hd, 0.f), vc = kc;
    for (int pos = 0; pos < T; ++pos) {
        vf step((size_t)B * 3 * W);
        for (int b = 0; b < B; ++b) std::copy_n(&qkv[((size_t)b * T + pos) * 3 * W], 3 * W, &step[(size_t)b * 3 * W]);
        emu::launch(parrot_flash_attention_decode_append_f32, ewGrid((long long)B * H * hd), dim3(256), kc.data(),
                    vc.data(), (const float*)step.data(), B, H, hd, maxLen, pos);
        const bool checked = pos < 3 || pos > T - 3 || pos == T / 2 || (pos >= 126 && pos <= 129);
        if (!checked) continue;
        int J = 0;
        long long chunks = 0;
        for (int h = 0; h < H; ++h) {
            const int n = pos / 128 - firstKey(a, h, pos) / 128 + 1;
            J = std::max(J, n);
            chunks += (long long)B * n;
        }
        vf part = nans((size_t)B * H * J * (hd + 2)), o = nans((size_t)B * W);
        fa_counters = FaCounters();
        emu::launch(parrot_flash_attention_decode_split_f32, dim3(B * H, J), dim3(128), part.data(),
                    (const float*)step.data(), (const float*)kc.data(), (const float*)vc.data(), B, H, hd, maxLen, pos,
                    J, scale, hp);
        emu::launch(parrot_flash_attention_decode_combine_f32, dim3(B * H), dim3(128), o.data(),
                    (const float*)part.data(), B, H, hd, pos, J, hp);
        vd want((size_t)B * W);
        for (int b = 0; b < B; ++b) std::copy_n(&rf[((size_t)b * T + pos) * W], W, &want[(size_t)b * W]);
        faCheck("flash decode pos=" + std::to_string(pos) + tag, want, o, 1e-5);
        expect("flash decode computes each head's chunks once pos=" + std::to_string(pos) + tag,
               fa_counters.decodeChunks == chunks);
    }
    bool cacheOk = true;
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
            for (int t = 0; t < maxLen; ++t)
                for (int i = 0; i < hd; ++i) {
                    const size_t c = (((size_t)b * H + h) * maxLen + t) * hd + i;
                    const size_t q = ((size_t)b * T + t) * 3 * W + h * 3 * hd;
                    const float wk = t < T ? qkv[q + hd + i] : 0.f, wv = t < T ? qkv[q + 2 * hd + i] : 0.f;
                    cacheOk &= kc[c] == wk && vc[c] == wv;
                }
    expect("flash decode caches" + tag, cacheOk);
}

static void testFlashAttention() {
    {   // the float64 reference gradient itself, against finite differences (windows and slopes together)
        Att a = faSpec("mixed", 1, 6, 5);
        const size_t nq = (size_t)a.B * a.T * 3 * a.H * a.hd;
        vd x = widen(randn(nq)), dout = widen(randn((size_t)a.B * a.T * a.H * a.hd)), g(nq, 0.0), fd(nq);
        attBwdRef(a, x, dout, g);
        auto loss = [&](const vd& v) {
            vd o, l;
            attRef(a, v, o, l);
            double L = 0;
            for (size_t i = 0; i < o.size(); ++i) L += dout[i] * o[i];
            return L;
        };
        for (size_t i = 0; i < nq; ++i) {
            vd xp = x, xm = x;
            xp[i] += 1e-5;
            xm[i] -= 1e-5;
            fd[i] = (loss(xp) - loss(xm)) / 2e-5;
        }
        check("flash reference gradient vs finite differences", fd, g, 1e-7);
    }
    const bool full = emu::schedule() == emu::Schedule::INORDER;
    const vector<std::string> schemes = {"nope", "alibi", "window1", "hard-alibi", "windows", "wide", "mixed"};
    const vector<int> lengths = {1, 7, 63, 65, 130};
    for (FaPrec prec : {FaPrec::F32, FaPrec::BF16, FaPrec::TF32}) {
        faWorst = faRawOut = faRawGrad = 0;
        faWorstWhat.clear();
        const bool f32 = prec == FaPrec::F32;
        for (const std::string& s : schemes) {
            for (int T : lengths) {
                if (!full && T != 65 && T != 130) continue;
                runFaCase(s, T, 64, prec, f32);
                if (T == 65 || T == 130 || (full && T == 7)) {
                    runFaCase(s, T, 32, prec, f32 && full);
                    runFaCase(s, T, 128, prec, f32 && full);
                }
            }
            if (full || s == "mixed") {
                for (int hd : f32 ? vector<int>{5, 40, 130} : vector<int>{37, 40}) runFaCase(s, 130, hd, prec, false);
                if (f32) runFaCase(s, 7, 8, prec, false);
            }
        }
        std::printf("flash attention %s: worst error/tolerance %.3f (%s)\n", faPrecName(prec), faWorst,
                    faWorstWhat.c_str());
        if (prec != FaPrec::F32)
            std::printf("flash attention %s against the unrounded inputs' reference: out/lse %.2g, dqkv %.2g\n",
                        faPrecName(prec), faRawOut, faRawGrad);
    }
}
