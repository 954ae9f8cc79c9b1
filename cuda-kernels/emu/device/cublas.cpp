// libcublas.so.12 of the emulated CUDA device: what parrot's CublasGemm calls through JCublas2, as plain
// column-major loops on the emulated device memory. The symbols carry the version node libcublas.so.12
// (libcublas.map), as JCublas2 12.6 links them. Every operand is checked against the device's allocations
// (emudev_check_range in libcuda.so.1), so a wrong leading dimension or transpose flag that would read past a
// buffer fails with a message instead of returning plausible numbers. Sums are in double, rounded once: the
// results match an exact GEMM more closely than NVIDIA's cuBLAS does, not bit for bit.
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#define API extern "C" __attribute__((visibility("default")))

extern "C" int emudev_check_range(unsigned long long p, size_t bytes, const char* call);

namespace {

enum Status {
    SUCCESS = 0,
    NOT_INITIALIZED = 1,
    ALLOC_FAILED = 3,
    INVALID_VALUE = 7,
    ARCH_MISMATCH = 8,
    MAPPING_ERROR = 11,
    EXECUTION_FAILED = 13,
    INTERNAL_ERROR = 14,
    NOT_SUPPORTED = 15,
    LICENSE_ERROR = 16,
};

struct Handle {
    void* stream = nullptr;
    int pointerMode = 0;   // CUBLAS_POINTER_MODE_HOST
    int mathMode = 0;      // CUBLAS_DEFAULT_MATH
};
std::set<Handle*> g_handles;

void log(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "emu-cublas: %s\n", buf);
    std::fflush(stderr);
}

// Reads a scalar argument: host memory in host pointer mode, device memory (checked) in device mode.
bool scalar(const Handle* h, const float* p, float* out, const char* what) {
    if (!p) {
        log("cublasSgemm: %s is null", what);
        return false;
    }
    if (h->pointerMode == 1 && !emudev_check_range((uintptr_t)p, sizeof(float), what)) return false;
    *out = *p;
    return true;
}

// A column-major rows x cols operand with leading dimension ld spans ld*(cols-1)+rows floats.
bool operand(const float* p, int rows, int cols, int ld, const char* call) {
    if (rows == 0 || cols == 0) return true;
    const size_t n = (size_t)ld * (size_t)(cols - 1) + (size_t)rows;
    return emudev_check_range((uintptr_t)p, n * sizeof(float), call) != 0;
}

}  // namespace

API int cublasCreate_v2(Handle** h) {
    if (!h) return INVALID_VALUE;
    *h = new Handle;
    g_handles.insert(*h);
    return SUCCESS;
}

API int cublasDestroy_v2(Handle* h) {
    if (!g_handles.erase(h)) return NOT_INITIALIZED;
    delete h;
    return SUCCESS;
}

API int cublasGetVersion_v2(Handle* h, int* v) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    if (!v) return INVALID_VALUE;
    *v = 120604;   // reports itself as cuBLAS 12.6.4, the release JCublas 12.6 is built against
    return SUCCESS;
}

API int cublasGetProperty(int type, int* v) {
    if (!v) return INVALID_VALUE;
    static const int parts[3] = {12, 6, 4};   // MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
    if (type < 0 || type > 2) return INVALID_VALUE;
    *v = parts[type];
    return SUCCESS;
}

API size_t cublasGetCudartVersion() {
    return 12060;
}

API int cublasSetStream_v2(Handle* h, void* stream) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    h->stream = stream;   // work is synchronous on the emulated device
    return SUCCESS;
}

API int cublasGetStream_v2(Handle* h, void** stream) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    if (!stream) return INVALID_VALUE;
    *stream = h->stream;
    return SUCCESS;
}

API int cublasSetPointerMode_v2(Handle* h, int mode) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    if (mode != 0 && mode != 1) return INVALID_VALUE;
    h->pointerMode = mode;
    return SUCCESS;
}

API int cublasGetPointerMode_v2(Handle* h, int* mode) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    if (!mode) return INVALID_VALUE;
    *mode = h->pointerMode;
    return SUCCESS;
}

API int cublasSetMathMode(Handle* h, int mode) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    h->mathMode = mode;   // TF32 and the like are not emulated: every mode computes in FP32 (double sums)
    return SUCCESS;
}

API int cublasGetMathMode(Handle* h, int* mode) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    if (!mode) return INVALID_VALUE;
    *mode = h->mathMode;
    return SUCCESS;
}

API const char* cublasGetStatusName(int s) {
    switch (s) {
        case SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

API const char* cublasGetStatusString(int s) {
    switch (s) {
        case SUCCESS: return "success";
        case NOT_INITIALIZED: return "the library was not initialized";
        case INVALID_VALUE: return "an invalid numeric value was used as an argument";
        case EXECUTION_FAILED: return "the GPU program failed to execute";
        case NOT_SUPPORTED: return "the functionality requested is not supported";
        default: return cublasGetStatusName(s);
    }
}

// C = alpha * op(A) * op(B) + beta * C, column-major; op(A) is m x k, op(B) k x n, C m x n. With beta == 0, C
// is not read (cuBLAS semantics: it may hold NaN).
API int cublasSgemm_v2(Handle* h, int transa, int transb, int m, int n, int k, const float* alphaP, const float* A,
                       int lda, const float* B, int ldb, const float* betaP, float* C, int ldc) {
    if (!g_handles.count(h)) return NOT_INITIALIZED;
    const bool ta = transa != 0, tb = transb != 0;   // CUBLAS_OP_T and CUBLAS_OP_C are the same for real data
    if (transa < 0 || transa > 2 || transb < 0 || transb > 2 || m < 0 || n < 0 || k < 0) {
        log("cublasSgemm: bad arguments (transa=%d transb=%d m=%d n=%d k=%d)", transa, transb, m, n, k);
        return INVALID_VALUE;
    }
    const int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
    if (lda < (aRows > 1 ? aRows : 1) || ldb < (bRows > 1 ? bRows : 1) || ldc < (m > 1 ? m : 1)) {
        log("cublasSgemm(transa=%c transb=%c m=%d n=%d k=%d): leading dimensions lda=%d ldb=%d ldc=%d must be at "
            "least %d, %d, %d", ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, lda, ldb, ldc, aRows > 1 ? aRows : 1,
            bRows > 1 ? bRows : 1, m > 1 ? m : 1);
        return INVALID_VALUE;
    }
    if (m == 0 || n == 0) return SUCCESS;
    float alpha, beta;
    if (!scalar(h, alphaP, &alpha, "cublasSgemm alpha") || !scalar(h, betaP, &beta, "cublasSgemm beta"))
        return INVALID_VALUE;
    char what[160];
    std::snprintf(what, sizeof what, "cublasSgemm(transa=%c transb=%c m=%d n=%d k=%d) C (ldc=%d)", ta ? 'T' : 'N',
                  tb ? 'T' : 'N', m, n, k, ldc);
    if (!operand(C, m, n, ldc, what)) return EXECUTION_FAILED;
    const bool readAB = k > 0 && alpha != 0.0f;
    if (readAB) {
        std::snprintf(what, sizeof what, "cublasSgemm(transa=%c transb=%c m=%d n=%d k=%d) A (lda=%d)",
                      ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, lda);
        if (!operand(A, aRows, aCols, lda, what)) return EXECUTION_FAILED;
        std::snprintf(what, sizeof what, "cublasSgemm(transa=%c transb=%c m=%d n=%d k=%d) B (ldb=%d)",
                      ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, ldb);
        if (!operand(B, bRows, bCols, ldb, what)) return EXECUTION_FAILED;
    }
    std::vector<double> acc((size_t)m);
    for (int j = 0; j < n; ++j) {
        std::fill(acc.begin(), acc.end(), 0.0);
        if (readAB)
            for (int l = 0; l < k; ++l) {
                const double b = tb ? B[(size_t)l * ldb + j] : B[(size_t)j * ldb + l];
                if (ta)
                    for (int i = 0; i < m; ++i) acc[i] += (double)A[(size_t)i * lda + l] * b;
                else {
                    const float* col = A + (size_t)l * lda;
                    for (int i = 0; i < m; ++i) acc[i] += (double)col[i] * b;
                }
            }
        float* c = C + (size_t)j * ldc;
        for (int i = 0; i < m; ++i)
            c[i] = beta == 0.0f ? (float)(alpha * acc[i]) : (float)(alpha * acc[i] + (double)beta * c[i]);
    }
    return SUCCESS;
}

// The generated stubs' shared body: log the name once, CUBLAS_STATUS_NOT_SUPPORTED.
extern "C" int emudev_cublas_not_supported(const char* name, int* logged) {
    if (!*logged) {
        *logged = 1;
        log("%s is not implemented by the emulated cuBLAS: CUBLAS_STATUS_NOT_SUPPORTED", name);
    }
    return NOT_SUPPORTED;
}
