// Tests of the emulated CUDA device itself (make emu-device-test), through its C ABI as JCuda uses it: module
// loading (PTX version, target, parameter list, launch bounds, shared memory), launch limits, the guarded memory
// (out-of-bounds and use-after-free faults name the kernel and launch, double free, range-checked copies, NaN fill,
// accounting, leaks) and cuBLAS SGEMM with every transpose against a naive loop.
//
// The PTX here is written by hand for a real kernel of cuda-kernels (parrot_add_f32(float*, const float*,
// const float*, int)), so no nvcc is needed. Scenarios that must die (faults) or need other settings (the
// environment is read once per process) run in a child: this binary re-executed with `--child NAME`.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
extern "C" {
CUresult cuInit(unsigned);
CUresult cuDriverGetVersion(int*);
CUresult cuDeviceGet(int*, int);
CUresult cuDeviceGetCount(int*);
CUresult cuDeviceGetName(char*, int, int);
CUresult cuDeviceGetAttribute(int*, int, int);
CUresult cuDeviceTotalMem_v2(size_t*, int);
CUresult cuDevicePrimaryCtxRetain(void**, int);
CUresult cuDevicePrimaryCtxRelease_v2(int);
CUresult cuCtxSetCurrent(void*);
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
CUresult cuMemGetInfo_v2(size_t*, size_t*);
CUresult cuMemGetAddressRange_v2(CUdeviceptr*, size_t*, CUdeviceptr);
CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
CUresult cuMemsetD32Async(CUdeviceptr, unsigned, size_t, void*);
CUresult cuModuleLoadDataEx(void**, const void*, unsigned, int*, void**);
CUresult cuModuleGetFunction(void**, void*, const char*);
CUresult cuModuleUnload(void*);
CUresult cuFuncSetAttribute(void*, int, int);
CUresult cuLaunchKernel(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**,
                        void**);
CUresult cuStreamCreate(void**, unsigned);
CUresult cuStreamSynchronize(void*);
CUresult cuGetErrorName(CUresult, const char**);
CUresult cuLinkCreate_v2(unsigned, int*, void**, void**);   // a stub: not implemented
int cublasCreate_v2(void**);
int cublasDestroy_v2(void*);
int cublasSgemm_v2(void*, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*,
                   float*, int);
int cublasSgemmBatched(void*);   // a stub
}

static int failures = 0, checks = 0;
static const char* g_self;

static void expect(bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
        ++failures;
        std::printf("FAIL %s\n", what.c_str());
    }
}

static std::string name(CUresult r) {
    const char* s = nullptr;
    if (cuGetErrorName(r, &s) != 0 || !s) return std::to_string(r);
    return s;
}

static void expect_rc(CUresult got, CUresult want, const std::string& what) {
    expect(got == want, what + ": got " + name(got) + ", want " + name(want));
}

static std::string ptx(const std::string& version, const std::string& target, const std::string& params,
                       const std::string& directives = "", const std::string& body = "") {
    return ".version " + version + "\n.target " + target + "\n.address_size 64\n\n"
           "// a comment, and a module-scope constant the parser must skip\n"
           ".global .align 4 .b8 table[8] = {1, 2, 3, 4, 5, 6, 7, 8};\n\n"
           ".visible .entry parrot_add_f32(\n" + params + "\n)\n" + directives + "\n{\n" + body +
           "\t.reg .b32 %r<4>;\n\tld.param.u32 %r1, [parrot_add_f32_param_3];\n\tret;\n}\n";
}
static const char* kParams =
    "\t.param .u64 parrot_add_f32_param_0,\n\t.param .u64 .ptr .global .align 4 parrot_add_f32_param_1,\n"
    "\t.param .u64 parrot_add_f32_param_2,\n\t.param .u32 parrot_add_f32_param_3";

struct Loaded {
    CUresult rc;
    void* module = nullptr;
    void* fn = nullptr;
    std::string log;
};

static Loaded load(const std::string& text) {
    Loaded l;
    static char buf[4096];
    buf[0] = 0;
    int opts[2] = {5, 6};   // CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
    void* vals[2] = {buf, (void*)(uintptr_t)sizeof buf};
    l.rc = cuModuleLoadDataEx(&l.module, text.c_str(), 2, opts, vals);
    l.log = buf;
    if (l.rc == 0) cuModuleGetFunction(&l.fn, l.module, "parrot_add_f32");
    return l;
}

static void* g_ctx;
static void setup() {
    expect_rc(cuInit(0), 0, "cuInit");
    int dev = -1;
    expect_rc(cuDeviceGet(&dev, 0), 0, "cuDeviceGet");
    expect_rc(cuDevicePrimaryCtxRetain(&g_ctx, 0), 0, "cuDevicePrimaryCtxRetain");
    expect_rc(cuCtxSetCurrent(g_ctx), 0, "cuCtxSetCurrent");
}

static CUresult add(void* fn, CUdeviceptr out, CUdeviceptr a, CUdeviceptr b, int n, unsigned grid, unsigned block,
                    unsigned smem = 0) {
    void* p[4] = {&out, &a, &b, &n};
    return cuLaunchKernel(fn, grid, 1, 1, block, 1, 1, smem, nullptr, p, nullptr);
}

static CUdeviceptr upload(const std::vector<float>& v) {
    CUdeviceptr d = 0;
    cuMemAlloc_v2(&d, v.size() * 4);
    cuMemcpyHtoD_v2(d, v.data(), v.size() * 4);
    return d;
}

// ---- in-process tests ---------------------------------------------------------------------------------------

static void test_device() {
    char nm[256];
    expect_rc(cuDeviceGetName(nm, sizeof nm, 0), 0, "cuDeviceGetName");
    expect(std::string(nm) == "emulated CUDA device (CPU)", std::string("device name: ") + nm);
    int v = 0, n = 0;
    cuDriverGetVersion(&v);
    expect(v == 12060, "driver version 12060, got " + std::to_string(v));
    cuDeviceGetCount(&n);
    expect(n == 1, "one device");
    int major = 0, minor = -1, sms = 0, warp = 0, smem = 0, optin = 0;
    cuDeviceGetAttribute(&major, 75, 0);
    cuDeviceGetAttribute(&minor, 76, 0);
    cuDeviceGetAttribute(&sms, 16, 0);
    cuDeviceGetAttribute(&warp, 10, 0);
    cuDeviceGetAttribute(&smem, 8, 0);
    cuDeviceGetAttribute(&optin, 97, 0);
    expect(major == 9 && minor == 0 && sms == 132 && warp == 32 && smem == 49152 && optin == 227 * 1024,
           "Hopper attributes");
    size_t total = 0;
    cuDeviceTotalMem_v2(&total, 0);
    expect(total == 80ull << 30, "80 GiB");
    void* link = nullptr;
    expect_rc(cuLinkCreate_v2(0, nullptr, nullptr, &link), 801, "an unimplemented import is CUDA_ERROR_NOT_SUPPORTED");
}

static void test_modules() {
    Loaded ok = load(ptx("7.8", "sm_90", kParams, ".maxntid 128, 1, 1"));
    expect_rc(ok.rc, 0, "valid PTX loads");
    expect(ok.fn != nullptr, "cuModuleGetFunction finds parrot_add_f32");
    void* f = nullptr;
    expect_rc(cuModuleGetFunction(&f, ok.module, "parrot_nonexistent"), 500, "unknown function: NOT_FOUND");

    Loaded newer = load(ptx("8.8", "sm_90", kParams));
    expect_rc(newer.rc, 222, "PTX 8.8 on a 12.6 driver: UNSUPPORTED_PTX_VERSION");
    expect(newer.log.find("8.8") != std::string::npos && newer.log.find("8.5") != std::string::npos,
           "the JIT log says which versions: " + newer.log);
    expect_rc(load(ptx("8.5", "sm_90", kParams)).rc, 0, "PTX 8.5 loads on 12.6");
    expect_rc(load(ptx("7.8", "sm_100", kParams)).rc, 218, ".target sm_100 on a 9.0 device: INVALID_PTX");
    expect_rc(load(ptx("7.8", "sm_90a", kParams)).rc, 0, ".target sm_90a on 9.0 loads");
    expect_rc(load(ptx("7.8", "sm_80", kParams)).rc, 0, ".target sm_80 on 9.0 loads");

    std::string wrong = kParams;
    wrong.replace(wrong.find(".u64 parrot_add_f32_param_0"), 4, ".u32");
    Loaded w = load(ptx("7.8", "sm_90", wrong));
    expect_rc(w.rc, 218, "a .param size that differs from the C++ signature: INVALID_PTX");
    expect(w.log.find("parameter 0") != std::string::npos, "the log names the parameter: " + w.log);
    std::string fewer = kParams;
    fewer = fewer.substr(0, fewer.rfind(",\n"));
    expect_rc(load(ptx("7.8", "sm_90", fewer)).rc, 218, "a missing .param: INVALID_PTX");
    std::string twin = ptx("7.8", "sm_90", kParams);
    std::string other = twin;
    for (size_t at; (at = other.find("parrot_add_f32")) != std::string::npos;) other.replace(at, 14, "parrot_nothing_f32");
    Loaded nt = load(other);
    expect_rc(nt.rc, 218, "an entry without an emulator twin: INVALID_PTX");
    expect(nt.log.find("parrot_nothing_f32") != std::string::npos, "the log names the entry: " + nt.log);
    expect_rc(load("not ptx at all").rc, 218, "garbage: INVALID_PTX");
    expect_rc(load(ptx("7.8", "sm_90", kParams, "", "\t.shared .align 4 .b8 big[50000];\n")).rc, 218,
              "more than 48 KiB static shared: INVALID_PTX");
}

static void test_launches() {
    Loaded l = load(ptx("7.8", "sm_90", kParams, ".maxntid 128, 1, 1", "\t.shared .align 8 .b8 s[40000];\n"));
    expect_rc(l.rc, 0, "PTX with .maxntid and 40000 bytes of .shared loads");
    const int n = 300;
    std::vector<float> a(n), b(n);
    for (int i = 0; i < n; ++i) { a[i] = (float)i; b[i] = 0.5f * i; }
    CUdeviceptr da = upload(a), db = upload(b), dout = 0;
    cuMemAlloc_v2(&dout, n * 4);
    expect_rc(add(l.fn, dout, da, db, n, 3, 128), 0, "a launch within the limits");
    std::vector<float> out(n);
    cuMemcpyDtoH_v2(out.data(), dout, n * 4);
    bool right = true;
    for (int i = 0; i < n; ++i) right &= out[i] == 1.5f * i;
    expect(right, "parrot_add_f32 ran in the emulator and added");
    expect_rc(add(l.fn, dout, da, db, n, 2, 256), 701, "256 threads > .maxntid 128: LAUNCH_OUT_OF_RESOURCES");
    Loaded u = load(ptx("7.8", "sm_90", kParams));
    expect_rc(add(u.fn, dout, da, db, n, 1, 1025), 1, "1025 threads: INVALID_VALUE");
    void* p[4] = {&dout, &da, &db, (void*)&n};
    expect_rc(cuLaunchKernel(u.fn, 1, 65536, 1, 32, 1, 1, 0, nullptr, p, nullptr), 1, "grid y 65536: INVALID_VALUE");
    expect_rc(cuLaunchKernel(u.fn, 1, 1, 1, 32, 1, 65, 0, nullptr, p, nullptr), 1, "block z 65: INVALID_VALUE");
    expect_rc(cuLaunchKernel(u.fn, 0, 1, 1, 32, 1, 1, 0, nullptr, p, nullptr), 1, "an empty grid: INVALID_VALUE");
    // shared memory: 40000 static + 9200 dynamic > 48 KiB until opted in, and the opt-in is capped at 227 KiB
    expect_rc(add(l.fn, dout, da, db, n, 3, 128, 9152), 0, "40000 + 9152 bytes of shared memory: exactly 48 KiB");
    expect_rc(add(l.fn, dout, da, db, n, 3, 128, 9200), 1, "40000 + 9200 bytes of shared memory: INVALID_VALUE");
    expect_rc(cuFuncSetAttribute(l.fn, 8, 200 * 1024), 1, "opt-in beyond 227 KiB with 40000 static: INVALID_VALUE");
    expect_rc(cuFuncSetAttribute(l.fn, 8, 20000), 0, "opt in to 20000 dynamic bytes");
    expect_rc(add(l.fn, dout, da, db, n, 3, 128, 9200), 0, "then 40000 + 9200 launches");
    expect_rc(add(l.fn, dout, da, db, n, 3, 128, 20001), 1, "but not 20001 dynamic bytes");
    // pointer arguments must be live device memory
    std::vector<float> host(n);
    expect_rc(add(u.fn, (CUdeviceptr)(uintptr_t)host.data(), da, db, n, 3, 128), 700,
              "a host pointer as a kernel argument: ILLEGAL_ADDRESS");
    expect_rc(add(u.fn, 0, da, db, 0, 1, 32), 0, "a null pointer argument is allowed");
    expect_rc(add(u.fn, dout + n * 4, da, db, 0, 1, 32), 0, "a pointer just past the end is allowed (empty slice)");
    void* s = nullptr;
    expect_rc(cuStreamCreate(&s, 0), 0, "cuStreamCreate");
    expect_rc(cuLaunchKernel(u.fn, 3, 1, 1, 128, 1, 1, 0, s, p, nullptr), 0, "a launch on a created stream");
    expect_rc(cuStreamSynchronize(s), 0, "cuStreamSynchronize");
    expect_rc(cuLaunchKernel(u.fn, 3, 1, 1, 128, 1, 1, 0, (void*)&host, p, nullptr), 400, "a bogus stream: INVALID_HANDLE");
    cuModuleUnload(u.module);
    expect_rc(cuLaunchKernel(u.fn, 3, 1, 1, 128, 1, 1, 0, nullptr, p, nullptr), 400,
              "a function of an unloaded module: INVALID_HANDLE");
    cuMemFree_v2(da);
    cuMemFree_v2(db);
    cuMemFree_v2(dout);
}

static void test_memory() {
    size_t free0 = 0, total = 0;
    expect_rc(cuMemGetInfo_v2(&free0, &total), 0, "cuMemGetInfo");
    CUdeviceptr p = 0, q = 0;
    expect_rc(cuMemAlloc_v2(&p, 1000), 0, "alloc 1000 bytes");
    size_t free1 = 0;
    cuMemGetInfo_v2(&free1, &total);
    expect(free0 - free1 == 1000, "cuMemGetInfo accounts exactly the bytes allocated");
    expect(((p + 1000) & 4095) == 0, "the buffer ends at a page boundary (the guard page follows)");
    expect(p % 4 == 0, "4-byte aligned start");
    uint32_t words[250];
    cuMemcpyDtoH_v2(words, p, 1000);
    bool nan = true;
    for (uint32_t w : words) nan &= w == 0xFFC00000u;
    expect(nan, "a new allocation reads as the NaN pattern");
    expect_rc(cuMemAlloc_v2(&q, 4096), 0, "alloc 4096");
    expect(q % 256 == 0, "a 256-multiple size is 256-aligned");
    expect(q > p, "addresses grow (never reused)");
    std::vector<char> host(2000);
    expect_rc(cuMemcpyHtoD_v2(p, host.data(), 1001), 1, "HtoD one byte past the end: INVALID_VALUE");
    expect_rc(cuMemcpyDtoH_v2(host.data(), p + 8, 993), 1, "DtoH from an offset past the end: INVALID_VALUE");
    expect_rc(cuMemcpyHtoD_v2(p + 8, host.data(), 992), 0, "HtoD ending exactly at the end");
    expect_rc(cuMemsetD32Async(p, 0, 251, nullptr), 1, "memset of 251 words into 1000 bytes: INVALID_VALUE");
    expect_rc(cuMemsetD32Async(p, 0, 250, nullptr), 0, "memset of 250 words");
    CUdeviceptr base = 0;
    size_t size = 0;
    expect_rc(cuMemGetAddressRange_v2(&base, &size, p + 10), 0, "cuMemGetAddressRange of an interior pointer");
    expect(base == p && size == 1000, "cuMemGetAddressRange finds the allocation");
    expect_rc(cuMemGetAddressRange_v2(&base, &size, p + 1000), 500, "cuMemGetAddressRange past the end: NOT_FOUND");
    expect_rc(cuMemFree_v2(p + 4), 1, "freeing an interior pointer: INVALID_VALUE");
    expect_rc(cuMemFree_v2((CUdeviceptr)(uintptr_t)host.data()), 1, "freeing a host pointer: INVALID_VALUE");
    expect_rc(cuMemFree_v2(p), 0, "free");
    expect_rc(cuMemFree_v2(p), 1, "double free: INVALID_VALUE");
    expect_rc(cuMemcpyHtoD_v2(p, host.data(), 4), 1, "a copy into freed memory: INVALID_VALUE");
    size_t free2 = 0;
    cuMemGetInfo_v2(&free2, &total);
    expect(free0 - free2 == 4096, "free gives the bytes back");
    CUdeviceptr r = 0;
    cuMemAlloc_v2(&r, 1000);
    expect(r != p, "a freed address is not handed out again");
    cuMemFree_v2(q);
    cuMemFree_v2(r);
    expect_rc(cuMemAlloc_v2(&r, 0), 1, "0 bytes: INVALID_VALUE");
    expect_rc(cuMemAlloc_v2(&r, 81ull << 30), 2, "more than the 80 GiB: OUT_OF_MEMORY");
}

static void naive(bool ta, bool tb, int m, int n, int k, float alpha, const std::vector<float>& A, int lda,
                  const std::vector<float>& B, int ldb, float beta, std::vector<float>& C, int ldc) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double s = 0;
            for (int l = 0; l < k; ++l)
                s += (double)(ta ? A[i * lda + l] : A[l * lda + i]) * (tb ? B[l * ldb + j] : B[j * ldb + l]);
            C[j * ldc + i] = (float)(alpha * s + (beta == 0 ? 0.0 : beta * C[j * ldc + i]));
        }
}

static void test_cublas() {
    void* h = nullptr;
    expect(cublasCreate_v2(&h) == 0, "cublasCreate");
    const int m = 5, n = 7, k = 3;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
            const int aCols = ta ? m : k, bCols = tb ? k : n;
            std::vector<float> A(lda * aCols), B(ldb * bCols), C(ldc * n);
            for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(1.0 + i);
            for (size_t i = 0; i < B.size(); ++i) B[i] = std::cos(2.0 + i);
            for (size_t i = 0; i < C.size(); ++i) C[i] = 0.25f * i;
            for (float beta : {0.0f, 0.5f}) {
                CUdeviceptr dA = upload(A), dB = upload(B), dC = upload(C);
                if (beta == 0) cuMemsetD32Async(dC, 0x7FC00000u, C.size(), nullptr);   // NaN: must not be read
                const float alpha = 1.5f;
                int st = cublasSgemm_v2(h, ta, tb, m, n, k, &alpha, (const float*)dA, lda, (const float*)dB, ldb, &beta,
                                        (float*)dC, ldc);
                std::vector<float> want = C, got(C.size());
                naive(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, want, ldc);
                cuMemcpyDtoH_v2(got.data(), dC, got.size() * 4);
                double err = 0;
                for (int j = 0; j < n; ++j)
                    for (int i = 0; i < m; ++i) err = std::max(err, (double)std::fabs(got[j * ldc + i] - want[j * ldc + i]));
                char tag[96];
                std::snprintf(tag, sizeof tag, "sgemm transa=%d transb=%d beta=%g", ta, tb, beta);
                expect(st == 0 && err < 1e-5, std::string(tag) + ": status " + std::to_string(st) + ", max error " +
                                                  std::to_string(err));
                bool padding = true;   // rows m..ldc-1 of C are not written
                for (int j = 0; j < n; ++j)
                    for (int i = m; i < ldc; ++i)
                        padding &= beta == 0 ? std::isnan(got[j * ldc + i]) : got[j * ldc + i] == C[j * ldc + i];
                expect(padding, std::string(tag) + ": the rows past m are left alone");
                if (ta == 1 && tb == 1 && beta == 0) {
                    expect(cublasSgemm_v2(h, ta, tb, m, n, k, &alpha, (const float*)dA, k - 1, (const float*)dB, ldb,
                                          &beta, (float*)dC, ldc) == 7, "lda < k with transa: INVALID_VALUE");
                    expect(cublasSgemm_v2(h, ta, tb, m, n + 1, k, &alpha, (const float*)dA, lda, (const float*)dB, ldb,
                                          &beta, (float*)dC, ldc) == 13, "C one column short: EXECUTION_FAILED");
                    std::vector<float> hostA(A);
                    expect(cublasSgemm_v2(h, ta, tb, m, n, k, &alpha, hostA.data(), lda, (const float*)dB, ldb, &beta,
                                          (float*)dC, ldc) == 13, "a host pointer as A: EXECUTION_FAILED");
                }
                cuMemFree_v2(dA);
                cuMemFree_v2(dB);
                cuMemFree_v2(dC);
            }
        }
    expect(cublasSgemmBatched(h) == 15, "an unimplemented cuBLAS import is CUBLAS_STATUS_NOT_SUPPORTED");
    expect(cublasDestroy_v2(h) == 0, "cublasDestroy");
    expect(cublasDestroy_v2(h) == 1, "a destroyed handle: NOT_INITIALIZED");
}

// ---- child scenarios ----------------------------------------------------------------------------------------

static int child(const std::string& which) {
    setup();
    Loaded u = load(ptx("7.8", "sm_90", kParams));
    if (which == "oob-write") {
        std::vector<float> a(257, 1.0f);
        CUdeviceptr da = upload(a), db = upload(a), dout = 0;
        cuMemAlloc_v2(&dout, 256 * 4);   // one element short
        add(u.fn, dout, da, db, 257, 3, 128);
        return 0;   // not reached: block 2's thread 0 writes element 256 and faults
    }
    if (which == "use-after-free") {
        std::vector<float> a(64, 1.0f);
        CUdeviceptr da = upload(a), db = upload(a), dout = 0;
        cuMemAlloc_v2(&dout, 64 * 4);
        cuMemFree_v2(da);
        CUresult r = add(u.fn, dout, da, db, 64, 1, 64);   // refused by the argument check (CHECK_ARGS=1)...
        std::printf("launch with a freed argument: %d\n", r);
        std::fflush(stdout);
        if (r != 700) return 3;
        return 0;
    }
    if (which == "use-after-free-unchecked") {   // ... and faults in the kernel when the check is off
        std::vector<float> a(64, 1.0f);
        CUdeviceptr da = upload(a), db = upload(a), dout = 0;
        cuMemAlloc_v2(&dout, 64 * 4);
        cuMemFree_v2(da);
        add(u.fn, dout, da, db, 64, 1, 64);
        return 0;
    }
    if (which == "leak") {
        CUdeviceptr p = 0, q = 0;
        cuMemAlloc_v2(&p, 1000);
        cuMemAlloc_v2(&q, 24);
        cuMemFree_v2(p);
        CUresult r = cuDevicePrimaryCtxRelease_v2(0);
        std::printf("release: %d\n", r);
        return r == 401 ? 0 : 3;
    }
    if (which == "cc75") {
        int major = 0, minor = 0;
        cuDeviceGetAttribute(&major, 75, 0);
        cuDeviceGetAttribute(&minor, 76, 0);
        Loaded l = load(ptx("7.8", "sm_80", kParams));
        std::printf("cc %d.%d load sm_80: %d\n", major, minor, l.rc);
        return major == 7 && minor == 5 && l.rc == 218 ? 0 : 3;
    }
    if (which == "small-memory") {
        CUdeviceptr p = 0;
        size_t f = 0, t = 0;
        cuMemGetInfo_v2(&f, &t);
        CUresult r = cuMemAlloc_v2(&p, 2ull << 30);
        std::printf("total %zu, alloc 2 GiB: %d\n", t, r);
        return t == (1ull << 30) && r == 2 ? 0 : 3;
    }
    if (which == "old-driver") {
        Loaded l = load(ptx("7.8", "sm_90", kParams));
        std::printf("driver 11.8 loads 7.8: %d; ", l.rc);
        Loaded m = load(ptx("8.0", "sm_90", kParams));
        std::printf("8.0: %d\n", m.rc);
        return l.rc == 0 && m.rc == 222 ? 0 : 3;
    }
    return 2;
}

struct Outcome {
    int status;       // exit status, or 128 + signal
    std::string err;  // stdout and stderr
};

static Outcome run_child(const char* which, const std::vector<std::string>& env) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return {-1, "pipe failed"};
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        for (const std::string& e : env) putenv(strdup(e.c_str()));
        execl(g_self, g_self, "--child", which, (char*)nullptr);
        _exit(127);
    }
    close(pipefd[1]);
    std::string err;
    char buf[4096];
    ssize_t k;
    while ((k = read(pipefd[0], buf, sizeof buf)) > 0) err.append(buf, (size_t)k);
    close(pipefd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), err};
}

static bool has(const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
}

static void test_children() {
    Outcome o = run_child("oob-write", {});
    expect(o.status == 128 + SIGABRT, "an out-of-bounds write aborts the process, status " + std::to_string(o.status));
    expect(has(o.err, "invalid global write") && has(o.err, "parrot_add_f32") && has(o.err, "launch #1") &&
               has(o.err, "0 bytes past the end of a 1024-byte allocation") && has(o.err, "grid (3,1,1) block (128,1,1)") &&
               has(o.err, "at block (2,0,0) thread (0,0,0)"),
           "the fault names the kernel, launch, allocation, block and thread: " + o.err);

    o = run_child("use-after-free", {});
    expect(o.status == 0 && has(o.err, "pointer argument 1") && has(o.err, "freed"),
           "a freed pointer argument is refused at launch, naming it: " + o.err);
    o = run_child("use-after-free-unchecked", {"PARROT_EMU_CHECK_ARGS=0"});
    expect(o.status == 128 + SIGABRT && has(o.err, "invalid global read") && has(o.err, "freed") &&
               has(o.err, "parrot_add_f32"),
           "reading freed memory in a kernel faults, naming it: " + o.err);

    char report[] = "/tmp/emu-device-test-leaks-XXXXXX";
    int fd = mkstemp(report);
    if (fd >= 0) close(fd);
    o = run_child("leak", {"PARROT_EMU_LEAKS=fail", std::string("PARROT_EMU_LEAK_REPORT=") + report});
    expect(o.status == 0 && has(o.err, "1 device allocation(s) (24 bytes) were never freed"),
           "a leak at context release is reported and fails the release: " + o.err);
    std::string rep;
    if (FILE* f = std::fopen(report, "r")) {
        char line[512];
        while (std::fgets(line, sizeof line, f)) rep += line;
        std::fclose(f);
    }
    std::remove(report);
    expect(has(rep, "leaks=1 bytes=24"), "the leak report file has the count and bytes: " + rep);

    o = run_child("cc75", {"PARROT_EMU_CC=7.5"});
    expect(o.status == 0, "PARROT_EMU_CC=7.5: capability 7.5, sm_80 PTX refused: " + o.err);
    o = run_child("small-memory", {"PARROT_EMU_MEM_GIB=1"});
    expect(o.status == 0, "PARROT_EMU_MEM_GIB=1: 1 GiB total, 2 GiB refused: " + o.err);
    o = run_child("old-driver", {"PARROT_EMU_DRIVER_VERSION=11080"});
    expect(o.status == 0, "PARROT_EMU_DRIVER_VERSION=11080 refuses PTX 8.0: " + o.err);
    o = run_child("cc75", {"PARROT_EMU_CC=seven"});
    expect(o.status != 0 && has(o.err, "PARROT_EMU_CC must be"), "a malformed setting is one line naming it: " + o.err);
}

int main(int argc, char** argv) {
    g_self = argv[0];
    if (argc == 3 && std::strcmp(argv[1], "--child") == 0) return child(argv[2]);
    setup();
    test_device();
    test_modules();
    test_launches();
    test_memory();
    test_cublas();
    test_children();
    expect_rc(cuDevicePrimaryCtxRelease_v2(0), 0, "release with nothing leaked");
    std::printf("emulated CUDA device: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
