// The emulator tests' shared harness: random inputs, and checks that count and report failures.
// Include after the kernels; define EMU_TEST_SEED first to pick the random stream.
#pragma once
#include <algorithm>
#include <random>
#include <string>
#include <vector>

using std::vector;
using vf = vector<float>;
using vd = vector<double>;

static std::mt19937_64 rng(EMU_TEST_SEED);
static int failures = 0, checks = 0;

static vf randn(size_t n, double scale = 1.0, double shift = 0.0) {
    std::normal_distribution<double> d(0.0, 1.0);
    vf a(n);
    for (auto& x : a) x = (float)(d(rng) * scale + shift);
    return a;
}
static vd widen(const vf& a) { return vd(a.begin(), a.end()); }
static vf nans(size_t n) { return vf(n, NAN); }

/** max |got - ref| relative to max |ref|; a non-finite value counts as infinite. */
static void check(const std::string& what, const vd& ref, const vf& got, double tol) {
    ++checks;
    double maxRef = 0, maxErr = 0;
    size_t worst = 0;
    if (ref.size() != got.size()) {
        ++failures;
        std::printf("FAIL %s: size %zu vs %zu\n", what.c_str(), got.size(), ref.size());
        return;
    }
    for (double v : ref) maxRef = std::max(maxRef, std::fabs(v));
    for (size_t i = 0; i < ref.size(); ++i) {
        double e = std::isfinite(got[i]) ? std::fabs(got[i] - ref[i]) : INFINITY;
        if (!(e <= maxErr)) { maxErr = e; worst = i; }
    }
    double rel = maxErr / std::max(maxRef, 1e-12);
    if (!(rel <= tol)) {
        ++failures;
        std::printf("FAIL %-64s rel err %.3g > %.1g at [%zu]: got %.8g want %.8g\n", what.c_str(), rel, tol, worst,
                    (double)got[worst], ref[worst]);
    }
}
static void check(const std::string& what, const vd& ref, const vd& got, double tol) {
    check(what, ref, vf(got.begin(), got.end()), tol);
}
static void checkScalar(const std::string& what, double ref, double got, double tol) {
    ++checks;
    double rel = std::fabs(got - ref) / std::max(std::fabs(ref), 1e-300);
    if (!(rel <= tol)) {
        ++failures;
        std::printf("FAIL %-64s rel err %.3g > %.1g: got %.17g want %.17g\n", what.c_str(), rel, tol, got, ref);
    }
}
static void expect(const std::string& what, bool ok) {
    ++checks;
    if (!ok) { ++failures; std::printf("FAIL %s\n", what.c_str()); }
}
