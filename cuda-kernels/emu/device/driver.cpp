// libcuda.so.1 of the emulated CUDA device: the driver API calls parrot's CUDA backend makes (through JCuda's
// libJCudaDriver), implemented on the CPU. Modules are PTX text, parsed as a driver would (ptx.cpp); each
// `.entry` runs as its twin compiled from the .cu source for the fiber emulator (cuda-kernels/emu/emu.h), found
// in the generated kernel tables (gen_entries.pl). Device memory is memory.cpp's guarded arena. Streams and events
// are synchronous: a launch has finished when cuLaunchKernel returns. Everything else libJCudaDriver imports is a
// generated stub (stubs.cpp) that logs its name once and returns CUDA_ERROR_NOT_SUPPORTED.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "internal.h"

// The kernel tables (build/emu-device/gen/*.cpp) and the emulator's position, from the kernel objects.
namespace emudev {
struct Entry;
struct Family;
}  // namespace emudev
#include "../emu.h"
#include "entry.h"
extern "C" const emudev::Family* const emudev_families[];

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
#define API extern "C" __attribute__((visibility("default")))

namespace emudev {

Launch g_launch;
unsigned long long g_launches = 0;

void log(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "emu-cuda: %s\n", buf);
    std::fflush(stderr);
}

int maxPtxIsa(int v) {
    // The PTX ISA each CUDA release introduced (a driver JIT-compiles PTX up to its own release's ISA).
    static const int table[][2] = {{11080, 78}, {12000, 80}, {12010, 81}, {12020, 82}, {12030, 83},
                                   {12040, 84}, {12050, 85}, {12060, 85}, {12080, 87}, {12090, 88},
                                   {13000, 90}};
    int isa = 0;
    for (auto& r : table) if (v >= r[0]) isa = r[1];
    return isa;
}

namespace {

std::string g_configError;

Config load_config() {
    Config c;
    auto env = [](const char* k) { return std::getenv(k); };
    auto bad = [](const char* k, const char* v, const char* allowed) {
        if (g_configError.empty())
            g_configError = std::string(k) + " must be " + allowed + ", got '" + v + "'";
    };
    c.name = "emulated CUDA device (CPU)";   // fixed: parrot recognizes the device by it (DeviceSelector)
    c.ccMajor = 9;
    c.ccMinor = 0;
    if (const char* v = env("PARROT_EMU_CC")) {
        if (std::sscanf(v, "%d.%d", &c.ccMajor, &c.ccMinor) != 2 || c.ccMajor < 1 || c.ccMinor < 0 || c.ccMinor > 9)
            bad("PARROT_EMU_CC", v, "MAJOR.MINOR, e.g. 9.0 or 7.5");
    }
    auto integer = [&](const char* k, long dflt, long lo, long hi, const char* allowed) {
        const char* v = env(k);
        if (!v) return dflt;
        char* end = nullptr;
        long r = std::strtol(v, &end, 0);
        if (end == v || *end != '\0' || r < lo || r > hi) {
            bad(k, v, allowed);
            return dflt;
        }
        return r;
    };
    c.sms = (int)integer("PARROT_EMU_SMS", 132, 1, 1024, "an integer 1..1024");
    c.totalMem = (size_t)integer("PARROT_EMU_MEM_GIB", 80, 1, 4096, "an integer 1..4096 (GiB)") << 30;
    c.driverVersion = (int)integer("PARROT_EMU_DRIVER_VERSION", 12060, 11000, 99999, "e.g. 12060 for CUDA 12.6");
    c.smemOptinMax = (int)integer("PARROT_EMU_SMEM_OPTIN_KIB", 227, 48, 1024, "an integer 48..1024 (KiB)") * 1024;
    c.fill = 0xFFC00000u;   // a quiet NaN as float; as int32, -4194304
    if (const char* v = env("PARROT_EMU_FILL")) {
        if (!std::strcmp(v, "nan")) c.fill = 0xFFC00000u;
        else if (!std::strcmp(v, "zero")) c.fill = 0;
        else {
            char* end = nullptr;
            unsigned long r = std::strtoul(v, &end, 16);
            if (end == v || *end != '\0' || r > 0xFFFFFFFFul) bad("PARROT_EMU_FILL", v, "nan, zero or a hex word");
            else c.fill = (uint32_t)r;
        }
    }
    c.align = (size_t)integer("PARROT_EMU_ALIGN", 4, 1, 256, "4, 8, 16, ... 256");
    if (c.align & (c.align - 1)) { bad("PARROT_EMU_ALIGN", env("PARROT_EMU_ALIGN"), "a power of two 1..256"); c.align = 4; }
    c.leaks = 1;
    if (const char* v = env("PARROT_EMU_LEAKS")) {
        if (!std::strcmp(v, "off")) c.leaks = 0;
        else if (!std::strcmp(v, "report")) c.leaks = 1;
        else if (!std::strcmp(v, "fail")) c.leaks = 2;
        else bad("PARROT_EMU_LEAKS", v, "off, report or fail");
    }
    if (const char* v = env("PARROT_EMU_LEAK_REPORT")) c.leakReport = v;
    c.checkArgs = integer("PARROT_EMU_CHECK_ARGS", 1, 0, 1, "0 or 1") != 0;
    c.trace = integer("PARROT_EMU_TRACE", 0, 0, 1, "0 or 1") != 0;
    return c;
}

}  // namespace

const Config& config() {
    static const Config c = load_config();
    return c;
}

namespace {

std::recursive_mutex g_lock;
#define LOCKED std::lock_guard<std::recursive_mutex> guard_(g_lock)

bool g_initialized = false;
int g_deviceCount = 1;

struct Context {
    int retains = 0;       // primary: retain count; created: 1 while alive
    bool primary = false;
    bool alive = false;
    unsigned flags = 0;
};
Context g_primary{0, true, false, 0};
std::set<Context*> g_created;
thread_local Context* tl_current = nullptr;

struct Module;
struct Function {
    const Entry* entry;
    const char* family;
    PtxEntry ptx;
    Module* module;
    int maxDynamicShared;  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
};
struct Module {
    std::map<std::string, Function*> functions;
    PtxModule ptx;
};
std::set<Module*> g_modules;
std::set<Function*> g_functions;
struct Stream { int id; };
std::set<Stream*> g_streams;
struct Event { double ms = 0; bool recorded = false; };
std::set<Event*> g_events;

struct Twin {
    const Entry* entry;
    const char* family;
    int count;
};
const std::map<std::string, Twin>& twins() {
    static const std::map<std::string, Twin> m = [] {
        std::map<std::string, Twin> r;
        for (const Family* const* f = emudev_families; *f; ++f)
            for (int i = 0; i < (*f)->count; ++i) {
                auto& t = r[(*f)->entries[i].name];
                t.entry = &(*f)->entries[i];
                t.family = (*f)->name;
                ++t.count;
            }
        return r;
    }();
    return m;
}

constexpr int kSharedDefault = 48 * 1024;

CUresult need_init() {
    if (!g_initialized) return NOT_INITIALIZED;
    return SUCCESS;
}

CUresult need_context(const char* call) {
    if (!g_initialized) return NOT_INITIALIZED;
    if (tl_current == nullptr || !tl_current->alive) {
        log("%s: no current context on this thread (cuCtxSetCurrent / cuDevicePrimaryCtxRetain first)", call);
        return INVALID_CONTEXT;
    }
    return SUCCESS;
}

CUresult check_device(CUdevice d) {
    if (!g_initialized) return NOT_INITIALIZED;
    if (d < 0 || d >= g_deviceCount) return INVALID_DEVICE;
    return SUCCESS;
}

bool stream_ok(void* s) {
    // 0: the legacy default stream; 1, 2: CU_STREAM_LEGACY / CU_STREAM_PER_THREAD
    return (uintptr_t)s <= 2 || g_streams.count((Stream*)s);
}

// At context release: what was still allocated (the driver would free it; parrot should have).
CUresult release_context_memory(const char* call) {
    size_t count = 0, bytes = 0;
    std::string list;
    mem_release_all(&count, &bytes, &list);
    for (Module* m : g_modules) {
        for (auto& f : m->functions) { g_functions.erase(f.second); delete f.second; }
        delete m;
    }
    g_modules.clear();
    const Config& c = config();
    if (!c.leakReport.empty()) {
        if (FILE* f = std::fopen(c.leakReport.c_str(), "a")) {
            std::fprintf(f, "%s leaks=%zu bytes=%zu launches=%llu%s%s\n", call, count, bytes, g_launches,
                         count ? " allocations: " : "", list.c_str());
            std::fclose(f);
        }
    }
    if (count == 0 || c.leaks == 0) return SUCCESS;
    log("%s: %zu device allocation(s) (%zu bytes) were never freed: %s", call, count, bytes, list.c_str());
    return c.leaks == 2 ? ILLEGAL_STATE : SUCCESS;
}

void at_exit() {
    if (g_primary.alive) {
        g_primary.alive = false;
        release_context_memory("process exit with the primary context retained");
    }
}

int attribute(int a) {
    const Config& c = config();
    switch (a) {
        case 1: return 1024;                         // MAX_THREADS_PER_BLOCK
        case 2: return 1024;                         // MAX_BLOCK_DIM_X
        case 3: return 1024;                         // MAX_BLOCK_DIM_Y
        case 4: return 64;                           // MAX_BLOCK_DIM_Z
        case 5: return 2147483647;                   // MAX_GRID_DIM_X
        case 6: return 65535;                        // MAX_GRID_DIM_Y
        case 7: return 65535;                        // MAX_GRID_DIM_Z
        case 8: return kSharedDefault;               // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: return 65536;                        // TOTAL_CONSTANT_MEMORY
        case 10: return 32;                          // WARP_SIZE
        case 11: return 2147483647;                  // MAX_PITCH
        case 12: return 65536;                       // MAX_REGISTERS_PER_BLOCK
        case 13: return 1980000;                     // CLOCK_RATE (kHz)
        case 14: return 512;                         // TEXTURE_ALIGNMENT
        case 15: return 1;                           // GPU_OVERLAP
        case 16: return c.sms;                       // MULTIPROCESSOR_COUNT
        case 17: return 0;                           // KERNEL_EXEC_TIMEOUT
        case 18: return 0;                           // INTEGRATED
        case 19: return 1;                           // CAN_MAP_HOST_MEMORY
        case 20: return 0;                           // COMPUTE_MODE default
        case 30: return 512;                         // SURFACE_ALIGNMENT
        case 31: return 1;                           // CONCURRENT_KERNELS
        case 32: return 1;                           // ECC_ENABLED
        case 33: return 0;                           // PCI_BUS_ID
        case 34: return 0;                           // PCI_DEVICE_ID
        case 35: return 0;                           // TCC_DRIVER
        case 36: return 2619000;                     // MEMORY_CLOCK_RATE (kHz)
        case 37: return 5120;                        // GLOBAL_MEMORY_BUS_WIDTH
        case 38: return 50 * 1024 * 1024;            // L2_CACHE_SIZE
        case 39: return 2048;                        // MAX_THREADS_PER_MULTIPROCESSOR
        case 40: return 0;                           // ASYNC_ENGINE_COUNT: copies are synchronous here
        case 41: return 1;                           // UNIFIED_ADDRESSING
        case 50: return 0;                           // PCI_DOMAIN_ID
        case 75: return c.ccMajor;                   // COMPUTE_CAPABILITY_MAJOR
        case 76: return c.ccMinor;                   // COMPUTE_CAPABILITY_MINOR
        case 78: return 1;                           // STREAM_PRIORITIES_SUPPORTED
        case 79: return 1;                           // GLOBAL_L1_CACHE_SUPPORTED
        case 80: return 1;                           // LOCAL_L1_CACHE_SUPPORTED
        case 81: return 228 * 1024;                  // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 82: return 65536;                       // MAX_REGISTERS_PER_MULTIPROCESSOR
        case 83: return 0;                           // MANAGED_MEMORY: not emulated
        case 84: return 0;                           // MULTI_GPU_BOARD
        case 85: return 0;                           // MULTI_GPU_BOARD_GROUP_ID
        case 86: return 0;                           // HOST_NATIVE_ATOMIC_SUPPORTED
        case 87: return 2;                           // SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO
        case 88: return 0;                           // PAGEABLE_MEMORY_ACCESS
        case 89: return 0;                           // CONCURRENT_MANAGED_ACCESS
        case 90: return 1;                           // COMPUTE_PREEMPTION_SUPPORTED
        case 95: return 0;                           // COOPERATIVE_LAUNCH: not emulated
        case 96: return 0;
        case 97: return c.smemOptinMax;              // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        case 106: return 32;                         // MAX_BLOCKS_PER_MULTIPROCESSOR
        case 111: return 1024;                       // RESERVED_SHARED_MEMORY_PER_BLOCK
        case 115: return 0;                          // MEMORY_POOLS_SUPPORTED: not emulated
        case 120: return 0;                          // CLUSTER_LAUNCH: not emulated
        default: return -1;
    }
}

const char* error_name(int e) {
    switch (e) {
        case SUCCESS: return "CUDA_SUCCESS";
        case INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
        case OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
        case NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
        case NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
        case INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
        case INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
        case INVALID_CONTEXT: return "CUDA_ERROR_INVALID_CONTEXT";
        case NO_BINARY_FOR_GPU: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
        case INVALID_PTX: return "CUDA_ERROR_INVALID_PTX";
        case UNSUPPORTED_PTX_VERSION: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
        case INVALID_HANDLE: return "CUDA_ERROR_INVALID_HANDLE";
        case ILLEGAL_STATE: return "CUDA_ERROR_ILLEGAL_STATE";
        case NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
        case ILLEGAL_ADDRESS: return "CUDA_ERROR_ILLEGAL_ADDRESS";
        case LAUNCH_OUT_OF_RESOURCES: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
        case NOT_SUPPORTED: return "CUDA_ERROR_NOT_SUPPORTED";
        case UNKNOWN: return "CUDA_ERROR_UNKNOWN";
        default: return nullptr;
    }
}

const char* error_string(int e) {
    switch (e) {
        case SUCCESS: return "no error";
        case INVALID_VALUE: return "invalid argument";
        case OUT_OF_MEMORY: return "out of memory";
        case NOT_INITIALIZED: return "initialization error";
        case NO_DEVICE: return "no CUDA-capable device is detected";
        case INVALID_DEVICE: return "invalid device ordinal";
        case INVALID_IMAGE: return "device kernel image is invalid";
        case INVALID_CONTEXT: return "invalid device context";
        case NO_BINARY_FOR_GPU: return "no kernel image is available for execution on the device";
        case INVALID_PTX: return "a PTX JIT compilation failed";
        case UNSUPPORTED_PTX_VERSION: return "the provided PTX was compiled with an unsupported toolchain.";
        case INVALID_HANDLE: return "invalid resource handle";
        case ILLEGAL_STATE: return "the operation is not permitted in the current state";
        case NOT_FOUND: return "named symbol not found";
        case ILLEGAL_ADDRESS: return "an illegal memory access was encountered";
        case LAUNCH_OUT_OF_RESOURCES: return "too many resources requested for launch";
        case NOT_SUPPORTED: return "operation not supported";
        case UNKNOWN: return "unknown error";
        default: return nullptr;
    }
}

// The JIT options a module load may carry; the error log is where a driver explains a refusal.
struct JitLog {
    char* buf = nullptr;
    size_t size = 0;
    void** sizeSlot = nullptr;
    void write(const std::string& m) {
        if (!buf || size == 0) return;
        size_t n = std::min(size - 1, m.size());
        std::memcpy(buf, m.data(), n);
        buf[n] = '\0';
        if (sizeSlot) *sizeSlot = (void*)(uintptr_t)(n + 1);
    }
};

CUresult module_error(JitLog& jit, CUresult rc, const std::string& msg) {
    log("cuModuleLoadData: %s (%s)", msg.c_str(), error_name(rc));
    jit.write("emulated CUDA device: " + msg);
    return rc;
}

CUresult load_module(Module** out, const void* image, JitLog& jit) {
    if (!image) return module_error(jit, INVALID_VALUE, "null image");
    const char* text = (const char*)image;
    // Not PTX: an ELF cubin or a fatbinary. The emulator runs the .cu source, so it can only take PTX.
    if (std::memcmp(text, "\x7f" "ELF", 4) == 0 || *(const uint32_t*)text == 0xBA55ED50u ||
        *(const uint32_t*)text == 0x466243b1u)
        return module_error(jit, NO_BINARY_FOR_GPU, "a cubin or fatbinary image: the emulated device loads PTX text only");
    PtxModule ptx;
    std::string err;
    if (!parse_ptx(text, std::strlen(text), &ptx, &err)) return module_error(jit, INVALID_PTX, "PTX parse error: " + err);
    const Config& c = config();
    const int isa = ptx.isaMajor * 10 + ptx.isaMinor, maxIsa = maxPtxIsa(c.driverVersion);
    char buf[512];
    if (isa > maxIsa) {
        std::snprintf(buf, sizeof buf, "PTX .version %d.%d is newer than this driver supports (driver %d.%d "
                      "JIT-compiles PTX ISA up to %d.%d; PARROT_EMU_DRIVER_VERSION)", ptx.isaMajor, ptx.isaMinor,
                      c.driverVersion / 1000, (c.driverVersion % 1000) / 10, maxIsa / 10, maxIsa % 10);
        return module_error(jit, UNSUPPORTED_PTX_VERSION, buf);
    }
    const int cc = c.ccMajor * 10 + c.ccMinor;
    if (ptx.targetSm > cc || (ptx.archSpecific && ptx.targetSm != cc)) {
        std::snprintf(buf, sizeof buf, "PTX .target %s needs compute capability %s%d.%d, the device has %d.%d "
                      "(PARROT_EMU_CC)", ptx.target.c_str(), ptx.archSpecific ? "exactly " : "",
                      ptx.targetSm / 10, ptx.targetSm % 10, c.ccMajor, c.ccMinor);
        return module_error(jit, INVALID_PTX, buf);
    }
    if (ptx.addressSize != 64)
        return module_error(jit, INVALID_PTX, ".address_size must be 64, got " + std::to_string(ptx.addressSize));
    Module* m = new Module;
    m->ptx = ptx;
    for (const PtxEntry& e : m->ptx.entries) {
        auto it = twins().find(e.name);
        std::string problem;
        if (it == twins().end()) problem = "has no emulator-compiled twin (no extern \"C\" kernel of that name in cuda-kernels/*.cu)";
        else if (it->second.count > 1) problem = "is defined by more than one kernel family";
        else {
            const Entry* t = it->second.entry;
            if (t->nparams != (int)e.params.size())
                problem = "has " + std::to_string(e.params.size()) + " .param but its C++ twin takes " +
                          std::to_string(t->nparams);
            for (int k = 0; problem.empty() && k < t->nparams; ++k)
                if (t->sizes[k] != e.params[k].size || t->aligns[k] != e.params[k].align)
                    problem = "parameter " + std::to_string(k) + " is " + std::to_string(e.params[k].size) +
                              " bytes aligned " + std::to_string(e.params[k].align) + " in the PTX but " +
                              std::to_string(t->sizes[k]) + " bytes aligned " + std::to_string(t->aligns[k]) +
                              " in the C++ signature";
        }
        if (e.staticShared > kSharedDefault && problem.empty())
            problem = "declares " + std::to_string(e.staticShared) + " bytes of static shared memory (at most 49152)";
        if (!problem.empty()) {
            const std::string msg = "entry " + e.name + " " + problem;   // before e goes away with m
            for (auto& f : m->functions) { g_functions.erase(f.second); delete f.second; }
            delete m;
            return module_error(jit, INVALID_PTX, msg);
        }
        Function* f = new Function{it->second.entry, it->second.family, e, m, (int)(kSharedDefault - e.staticShared)};
        m->functions[e.name] = f;
        g_functions.insert(f);
    }
    g_modules.insert(m);
    *out = m;
    jit.write("");
    return SUCCESS;
}

CUresult launch(Function* f, const unsigned g[3], const unsigned b[3], unsigned shared, void** params, void** extra) {
    const PtxEntry& e = f->ptx;
    const char* k = e.name.c_str();
    const unsigned long long threads = (unsigned long long)b[0] * b[1] * b[2];
    if (g[0] == 0 || g[1] == 0 || g[2] == 0 || b[0] == 0 || b[1] == 0 || b[2] == 0) {
        log("cuLaunchKernel(%s): empty grid (%u,%u,%u) or block (%u,%u,%u)", k, g[0], g[1], g[2], b[0], b[1], b[2]);
        return INVALID_VALUE;
    }
    if (b[0] > 1024 || b[1] > 1024 || b[2] > 64 || threads > 1024) {
        log("cuLaunchKernel(%s): block (%u,%u,%u) exceeds the device's limits (1024 threads, x,y <= 1024, z <= 64)",
            k, b[0], b[1], b[2]);
        return INVALID_VALUE;
    }
    if (e.maxntid[0] && threads > (unsigned long long)e.maxntid[0] * e.maxntid[1] * e.maxntid[2]) {
        log("cuLaunchKernel(%s): block (%u,%u,%u) has %llu threads, more than its .maxntid %d,%d,%d "
            "(__launch_bounds__)", k, b[0], b[1], b[2], threads, e.maxntid[0], e.maxntid[1], e.maxntid[2]);
        return LAUNCH_OUT_OF_RESOURCES;
    }
    if (e.reqntid[0] && (b[0] != (unsigned)e.reqntid[0] || b[1] != (unsigned)e.reqntid[1] ||
                         b[2] != (unsigned)e.reqntid[2])) {
        log("cuLaunchKernel(%s): block (%u,%u,%u) differs from its .reqntid %d,%d,%d", k, b[0], b[1], b[2],
            e.reqntid[0], e.reqntid[1], e.reqntid[2]);
        return INVALID_VALUE;
    }
    if (g[0] > 2147483647u || g[1] > 65535 || g[2] > 65535) {
        log("cuLaunchKernel(%s): grid (%u,%u,%u) exceeds the device's limits (x < 2^31, y,z <= 65535)", k, g[0],
            g[1], g[2]);
        return INVALID_VALUE;
    }
    if ((long)shared > f->maxDynamicShared) {
        log("cuLaunchKernel(%s): %u bytes of dynamic shared memory + %ld static exceed the %d bytes allowed "
            "(48 KiB unless raised with cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES))", k, shared,
            e.staticShared, (int)(f->maxDynamicShared + e.staticShared));
        return INVALID_VALUE;
    }
    if (shared > 0 && !e.dynamicShared) {
        // Legal on a GPU (the bytes go unused), so only noted.
        static std::set<std::string> noted;
        if (noted.insert(e.name).second)
            log("cuLaunchKernel(%s): %u bytes of dynamic shared memory for a kernel that declares none", k, shared);
    }
    if (e.dynamicShared) {
        log("cuLaunchKernel(%s): the kernel uses extern __shared__ memory, which the CPU emulator does not "
            "provide (cuda-kernels/emu/emu.h)", k);
        return NOT_SUPPORTED;
    }
    if (extra) {
        log("cuLaunchKernel(%s): arguments through `extra` are not supported, pass kernelParams", k);
        return NOT_SUPPORTED;
    }
    const Entry* t = f->entry;
    if (t->nparams > 0 && !params) {
        log("cuLaunchKernel(%s): kernelParams is null, the kernel takes %d arguments", k, t->nparams);
        return INVALID_VALUE;
    }
    if (config().checkArgs)
        for (int i = 0; i < t->nparams; ++i) {
            if (!t->pointer[i]) continue;
            uintptr_t p;
            std::memcpy(&p, params[i], sizeof p);
            if (!mem_pointer_ok(p)) {
                log("cuLaunchKernel(%s) launch #%llu: pointer argument %d (0x%zx) is not live device memory: %s", k,
                    g_launches + 1, i, (size_t)p, mem_describe(p).c_str());
                return ILLEGAL_ADDRESS;
            }
        }
    ++g_launches;
    g_launch.kernel = k;
    g_launch.family = f->family;
    g_launch.number = g_launches;
    for (int i = 0; i < 3; ++i) { g_launch.grid[i] = g[i]; g_launch.block[i] = b[i]; }
    g_launch.dynamicShared = shared;
    g_launch.thread = pthread_self();
    if (config().trace)
        log("launch #%llu %s (%s.cu) grid (%u,%u,%u) block (%u,%u,%u) smem %u", g_launches, k, f->family, g[0], g[1],
            g[2], b[0], b[1], b[2], shared);
    t->run(params, dim3(g[0], g[1], g[2]), dim3(b[0], b[1], b[2]));
    g_launch.kernel = nullptr;
    return SUCCESS;
}

}  // namespace
}  // namespace emudev

using namespace emudev;

// The emulator's current block and thread, for the fault handler.
extern "C" void emudev_position(unsigned* b, unsigned* t) {
    b[0] = emu::g_blockIdx.x; b[1] = emu::g_blockIdx.y; b[2] = emu::g_blockIdx.z;
    t[0] = emu::g_threadIdx.x; t[1] = emu::g_threadIdx.y; t[2] = emu::g_threadIdx.z;
}

// For libcublas.so.12 of the emulated device: is [p, p + bytes) inside one live allocation?
API int emudev_check_range(unsigned long long p, size_t bytes, const char* call) {
    LOCKED;
    return mem_check((uintptr_t)p, bytes, call) ? 1 : 0;
}

// ---- initialization, device -------------------------------------------------------------------------------

API CUresult cuInit(unsigned flags) {
    LOCKED;
    if (flags != 0) return INVALID_VALUE;
    config();
    if (!g_configError.empty()) {
        log("%s", g_configError.c_str());
        return INVALID_VALUE;
    }
    if (!g_initialized) {
        if (const char* v = std::getenv("PARROT_EMU_DEVICES")) g_deviceCount = std::atoi(v) > 0 ? 1 : 0;
        install_fault_handler();
        std::atexit(at_exit);
        twins();
        g_initialized = true;
    }
    return SUCCESS;
}

API CUresult cuDriverGetVersion(int* v) {
    if (!v) return INVALID_VALUE;
    *v = config().driverVersion;
    return SUCCESS;
}

API CUresult cuDeviceGetCount(int* n) {
    LOCKED;
    if (CUresult r = need_init()) return r;
    if (!n) return INVALID_VALUE;
    *n = g_deviceCount;
    return SUCCESS;
}

API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    LOCKED;
    if (CUresult r = need_init()) return r;
    if (!d) return INVALID_VALUE;
    if (ordinal < 0 || ordinal >= g_deviceCount) return INVALID_DEVICE;
    *d = ordinal;
    return SUCCESS;
}

API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!name || len <= 0) return INVALID_VALUE;
    std::snprintf(name, (size_t)len, "%s", config().name.c_str());
    return SUCCESS;
}

API CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!v) return INVALID_VALUE;
    int a = attribute(attr);
    if (a < 0) {
        static std::set<int> noted;
        if (noted.insert(attr).second) log("cuDeviceGetAttribute(%d): not modelled by the emulated device", attr);
        return INVALID_VALUE;
    }
    *v = a;
    return SUCCESS;
}

API CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!major || !minor) return INVALID_VALUE;
    *major = config().ccMajor;
    *minor = config().ccMinor;
    return SUCCESS;
}

API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!bytes) return INVALID_VALUE;
    *bytes = config().totalMem;
    return SUCCESS;
}

API CUresult cuDeviceGetUuid(unsigned char* uuid, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!uuid) return INVALID_VALUE;
    static const char tag[16] = {'p', 'a', 'r', 'r', 'o', 't', '-', 'e', 'm', 'u', '-', 'c', 'u', 'd', 'a', 0};
    std::memcpy(uuid, tag, 16);
    return SUCCESS;
}

API CUresult cuDeviceGetPCIBusId(char* id, int len, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!id || len <= 0) return INVALID_VALUE;
    std::snprintf(id, (size_t)len, "0000:00:00.0");
    return SUCCESS;
}

// ---- contexts ---------------------------------------------------------------------------------------------

API CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!ctx) return INVALID_VALUE;
    ++g_primary.retains;
    g_primary.alive = true;
    *ctx = &g_primary;
    return SUCCESS;
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (g_primary.retains <= 0) {
        log("cuDevicePrimaryCtxRelease: the primary context is not retained");
        return INVALID_CONTEXT;
    }
    if (--g_primary.retains > 0) return SUCCESS;
    g_primary.alive = false;
    return release_context_memory("cuDevicePrimaryCtxRelease");
}

API CUresult cuDevicePrimaryCtxGetState(CUdevice d, unsigned* flags, int* active) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!flags || !active) return INVALID_VALUE;
    *flags = g_primary.flags;
    *active = g_primary.alive ? 1 : 0;
    return SUCCESS;
}

API CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice d, unsigned flags) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    g_primary.flags = flags;
    return SUCCESS;
}

API CUresult cuDevicePrimaryCtxReset_v2(CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!g_primary.alive) return SUCCESS;
    g_primary.alive = false;
    g_primary.retains = 0;
    return release_context_memory("cuDevicePrimaryCtxReset");
}

API CUresult cuCtxCreate_v2(void** ctx, unsigned flags, CUdevice d) {
    LOCKED;
    if (CUresult r = check_device(d)) return r;
    if (!ctx) return INVALID_VALUE;
    // One address space: a created context shares the device memory of the primary one.
    Context* c = new Context{1, false, true, flags};
    g_created.insert(c);
    tl_current = c;
    *ctx = c;
    return SUCCESS;
}

API CUresult cuCtxDestroy_v2(void* ctx) {
    LOCKED;
    Context* c = (Context*)ctx;
    if (!g_created.count(c)) return INVALID_CONTEXT;
    g_created.erase(c);
    if (tl_current == c) tl_current = nullptr;
    delete c;
    if (!g_primary.alive && g_created.empty()) return release_context_memory("cuCtxDestroy");
    return SUCCESS;
}

API CUresult cuCtxSetCurrent(void* ctx) {
    LOCKED;
    if (CUresult r = need_init()) return r;
    Context* c = (Context*)ctx;
    if (c && c != &g_primary && !g_created.count(c)) return INVALID_CONTEXT;
    if (c && !c->alive) return INVALID_CONTEXT;
    tl_current = c;
    return SUCCESS;
}

API CUresult cuCtxGetCurrent(void** ctx) {
    LOCKED;
    if (CUresult r = need_init()) return r;
    if (!ctx) return INVALID_VALUE;
    *ctx = tl_current;
    return SUCCESS;
}

API CUresult cuCtxGetDevice(CUdevice* d) {
    LOCKED;
    if (CUresult r = need_context("cuCtxGetDevice")) return r;
    if (!d) return INVALID_VALUE;
    *d = 0;
    return SUCCESS;
}

API CUresult cuCtxSynchronize() {
    LOCKED;
    return need_context("cuCtxSynchronize");
}

API CUresult cuCtxGetApiVersion(void* ctx, unsigned* v) {
    LOCKED;
    if (!v) return INVALID_VALUE;
    (void)ctx;
    *v = 3020;
    return SUCCESS;
}

// ---- memory -----------------------------------------------------------------------------------------------

API CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    LOCKED;
    if (CUresult r = need_context("cuMemAlloc")) return r;
    if (!p) return INVALID_VALUE;
    uintptr_t out = 0;
    CUresult r = mem_alloc(&out, bytes);
    if (r == SUCCESS) *p = out;
    return r;
}

API CUresult cuMemFree_v2(CUdeviceptr p) {
    LOCKED;
    if (CUresult r = need_context("cuMemFree")) return r;
    return mem_free((uintptr_t)p, "cuMemFree");
}

API CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* total) {
    LOCKED;
    if (CUresult r = need_context("cuMemGetInfo")) return r;
    if (!freeBytes || !total) return INVALID_VALUE;
    *total = config().totalMem;
    *freeBytes = *total - std::min(*total, mem_in_use());
    return SUCCESS;
}

API CUresult cuMemGetAddressRange_v2(CUdeviceptr* base, size_t* size, CUdeviceptr p) {
    LOCKED;
    if (CUresult r = need_context("cuMemGetAddressRange")) return r;
    uintptr_t b = 0;
    size_t n = 0;
    if (!mem_range((uintptr_t)p, &b, &n)) return NOT_FOUND;
    if (base) *base = b;
    if (size) *size = n;
    return SUCCESS;
}

namespace {
CUresult copy(void* dst, const void* src, size_t n, bool dstDevice, bool srcDevice, void* stream, const char* call) {
    LOCKED;
    if (CUresult r = need_context(call)) return r;
    if (!stream_ok(stream)) {
        log("%s: invalid stream handle %p", call, stream);
        return INVALID_HANDLE;
    }
    if (n == 0) return SUCCESS;
    if (dstDevice && !mem_check((uintptr_t)dst, n, call)) return INVALID_VALUE;
    if (srcDevice && !mem_check((uintptr_t)src, n, call)) return INVALID_VALUE;
    if (!dst || !src) {
        log("%s: null host pointer", call);
        return INVALID_VALUE;
    }
    std::memmove(dst, src, n);
    return SUCCESS;
}

CUresult memset_words(CUdeviceptr p, unsigned value, size_t words, int width, void* stream, const char* call) {
    LOCKED;
    if (CUresult r = need_context(call)) return r;
    if (!stream_ok(stream)) return INVALID_HANDLE;
    if (words == 0) return SUCCESS;
    if (width == 4 && (p & 3)) {
        log("%s: 0x%llx is not 4-byte aligned", call, p);
        return INVALID_VALUE;
    }
    if (!mem_check((uintptr_t)p, words * width, call)) return INVALID_VALUE;
    if (width == 1) std::memset((void*)p, (int)(value & 0xff), words);
    else {
        uint32_t* w = (uint32_t*)p;
        for (size_t i = 0; i < words; ++i) w[i] = value;
    }
    return SUCCESS;
}
}  // namespace

API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    return copy((void*)dst, src, n, true, false, nullptr, "cuMemcpyHtoD");
}
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* s) {
    return copy((void*)dst, src, n, true, false, s, "cuMemcpyHtoDAsync");
}
API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    return copy(dst, (const void*)src, n, false, true, nullptr, "cuMemcpyDtoH");
}
API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* s) {
    return copy(dst, (const void*)src, n, false, true, s, "cuMemcpyDtoHAsync");
}
API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    return copy((void*)dst, (const void*)src, n, true, true, nullptr, "cuMemcpyDtoD");
}
API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void* s) {
    return copy((void*)dst, (const void*)src, n, true, true, s, "cuMemcpyDtoDAsync");
}
API CUresult cuMemsetD32_v2(CUdeviceptr p, unsigned v, size_t n) {
    return memset_words(p, v, n, 4, nullptr, "cuMemsetD32");
}
API CUresult cuMemsetD32Async(CUdeviceptr p, unsigned v, size_t n, void* s) {
    return memset_words(p, v, n, 4, s, "cuMemsetD32Async");
}
API CUresult cuMemsetD8_v2(CUdeviceptr p, unsigned char v, size_t n) {
    return memset_words(p, v, n, 1, nullptr, "cuMemsetD8");
}
API CUresult cuMemsetD8Async(CUdeviceptr p, unsigned char v, size_t n, void* s) {
    return memset_words(p, v, n, 1, s, "cuMemsetD8Async");
}

// ---- modules, functions, launches -------------------------------------------------------------------------

API CUresult cuModuleLoadDataEx(void** module, const void* image, unsigned n, int* options, void** values) {
    LOCKED;
    JitLog jit;
    for (unsigned i = 0; options && values && i < n; ++i) {
        if (options[i] == 5) jit.buf = (char*)values[i];                  // CU_JIT_ERROR_LOG_BUFFER
        else if (options[i] == 6) { jit.size = (size_t)(uintptr_t)values[i]; jit.sizeSlot = &values[i]; }
    }
    if (CUresult r = need_context("cuModuleLoadData")) return r;
    if (!module) return INVALID_VALUE;
    Module* m = nullptr;
    CUresult r = load_module(&m, image, jit);
    if (r == SUCCESS) *module = m;
    return r;
}

API CUresult cuModuleLoadData(void** module, const void* image) {
    return cuModuleLoadDataEx(module, image, 0, nullptr, nullptr);
}

API CUresult cuModuleLoad(void** module, const char* path) {
    LOCKED;
    if (CUresult r = need_context("cuModuleLoad")) return r;
    FILE* f = path ? std::fopen(path, "rb") : nullptr;
    if (!f) {
        log("cuModuleLoad: cannot open %s", path ? path : "(null)");
        return NOT_FOUND;
    }
    std::string text;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    return cuModuleLoadData(module, text.c_str());
}

API CUresult cuModuleUnload(void* module) {
    LOCKED;
    Module* m = (Module*)module;
    if (!g_modules.count(m)) return INVALID_HANDLE;
    for (auto& f : m->functions) { g_functions.erase(f.second); delete f.second; }
    g_modules.erase(m);
    delete m;
    return SUCCESS;
}

API CUresult cuModuleGetFunction(void** f, void* module, const char* name) {
    LOCKED;
    if (CUresult r = need_context("cuModuleGetFunction")) return r;
    Module* m = (Module*)module;
    if (!g_modules.count(m)) return INVALID_HANDLE;
    if (!f || !name) return INVALID_VALUE;
    auto it = m->functions.find(name);
    if (it == m->functions.end()) return NOT_FOUND;
    *f = it->second;
    return SUCCESS;
}

API CUresult cuFuncGetAttribute(int* v, int attr, void* func) {
    LOCKED;
    Function* f = (Function*)func;
    if (!g_functions.count(f)) return INVALID_HANDLE;
    if (!v) return INVALID_VALUE;
    const PtxEntry& e = f->ptx;
    switch (attr) {
        case 0: *v = e.maxntid[0] ? std::min(1024, e.maxntid[0] * e.maxntid[1] * e.maxntid[2]) : 1024; return SUCCESS;
        case 1: *v = (int)e.staticShared; return SUCCESS;
        case 2: case 3: *v = 0; return SUCCESS;
        case 4: *v = 32; return SUCCESS;   // NUM_REGS: not known without ptxas
        case 5: *v = f->module->ptx.isaMajor * 10 + f->module->ptx.isaMinor; return SUCCESS;
        case 6: *v = config().ccMajor * 10 + config().ccMinor; return SUCCESS;
        case 8: *v = f->maxDynamicShared; return SUCCESS;
        default: return INVALID_VALUE;
    }
}

API CUresult cuFuncSetAttribute(void* func, int attr, int value) {
    LOCKED;
    Function* f = (Function*)func;
    if (!g_functions.count(f)) return INVALID_HANDLE;
    if (attr == 8) {   // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || value + f->ptx.staticShared > config().smemOptinMax) {
            log("cuFuncSetAttribute(%s, MAX_DYNAMIC_SHARED_SIZE_BYTES, %d): with %ld static bytes this exceeds the "
                "device's opt-in maximum of %d bytes per block", f->ptx.name.c_str(), value, f->ptx.staticShared,
                config().smemOptinMax);
            return INVALID_VALUE;
        }
        f->maxDynamicShared = value;
        return SUCCESS;
    }
    if (attr == 9) return SUCCESS;   // PREFERRED_SHARED_MEMORY_CARVEOUT: a hint
    log("cuFuncSetAttribute(%s, %d): not supported by the emulated device", f->ptx.name.c_str(), attr);
    return NOT_SUPPORTED;
}

API CUresult cuFuncSetCacheConfig(void* func, int) {
    LOCKED;
    return g_functions.count((Function*)func) ? SUCCESS : INVALID_HANDLE;
}

API CUresult cuLaunchKernel(void* func, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared, void* stream, void** params, void** extra) {
    LOCKED;
    if (CUresult r = need_context("cuLaunchKernel")) return r;
    Function* f = (Function*)func;
    if (!g_functions.count(f)) {
        log("cuLaunchKernel: invalid function handle %p (its module unloaded?)", func);
        return INVALID_HANDLE;
    }
    if (!stream_ok(stream)) {
        log("cuLaunchKernel(%s): invalid stream handle %p", f->ptx.name.c_str(), stream);
        return INVALID_HANDLE;
    }
    const unsigned g[3] = {gx, gy, gz}, b[3] = {bx, by, bz};
    return launch(f, g, b, shared, params, extra);
}

// ---- streams and events (synchronous) ---------------------------------------------------------------------

API CUresult cuStreamCreate(void** s, unsigned flags) {
    LOCKED;
    if (CUresult r = need_context("cuStreamCreate")) return r;
    if (!s) return INVALID_VALUE;
    (void)flags;
    static int next = 1;
    Stream* st = new Stream{next++};
    g_streams.insert(st);
    *s = st;
    return SUCCESS;
}

API CUresult cuStreamCreateWithPriority(void** s, unsigned flags, int) {
    return cuStreamCreate(s, flags);
}

API CUresult cuStreamDestroy_v2(void* s) {
    LOCKED;
    if (!g_streams.count((Stream*)s)) return INVALID_HANDLE;
    g_streams.erase((Stream*)s);
    delete (Stream*)s;
    return SUCCESS;
}

API CUresult cuStreamSynchronize(void* s) {
    LOCKED;
    if (CUresult r = need_context("cuStreamSynchronize")) return r;
    return stream_ok(s) ? SUCCESS : INVALID_HANDLE;
}

API CUresult cuStreamQuery(void* s) {
    return cuStreamSynchronize(s);
}

API CUresult cuStreamWaitEvent(void* s, void* e, unsigned) {
    LOCKED;
    if (!stream_ok(s) || !g_events.count((Event*)e)) return INVALID_HANDLE;
    return SUCCESS;
}

API CUresult cuEventCreate(void** e, unsigned) {
    LOCKED;
    if (CUresult r = need_context("cuEventCreate")) return r;
    if (!e) return INVALID_VALUE;
    Event* ev = new Event;
    g_events.insert(ev);
    *e = ev;
    return SUCCESS;
}

API CUresult cuEventDestroy_v2(void* e) {
    LOCKED;
    if (!g_events.erase((Event*)e)) return INVALID_HANDLE;
    delete (Event*)e;
    return SUCCESS;
}

API CUresult cuEventRecord(void* e, void* s) {
    LOCKED;
    Event* ev = (Event*)e;
    if (!g_events.count(ev) || !stream_ok(s)) return INVALID_HANDLE;
    // Host time: the emulator has no device clock, so elapsed times are how long the CPU took.
    ev->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    ev->recorded = true;
    return SUCCESS;
}

API CUresult cuEventSynchronize(void* e) {
    LOCKED;
    return g_events.count((Event*)e) ? SUCCESS : INVALID_HANDLE;
}

API CUresult cuEventQuery(void* e) {
    return cuEventSynchronize(e);
}

API CUresult cuEventElapsedTime(float* ms, void* a, void* b) {
    LOCKED;
    Event *ea = (Event*)a, *eb = (Event*)b;
    if (!g_events.count(ea) || !g_events.count(eb)) return INVALID_HANDLE;
    if (!ms) return INVALID_VALUE;
    if (!ea->recorded || !eb->recorded) return 600;   // CUDA_ERROR_NOT_READY
    *ms = (float)(eb->ms - ea->ms);
    return SUCCESS;
}

// ---- errors -----------------------------------------------------------------------------------------------

API CUresult cuGetErrorName(int e, const char** s) {
    if (!s) return INVALID_VALUE;
    *s = error_name(e);
    return *s ? SUCCESS : INVALID_VALUE;
}

API CUresult cuGetErrorString(int e, const char** s) {
    if (!s) return INVALID_VALUE;
    *s = error_string(e);
    return *s ? SUCCESS : INVALID_VALUE;
}

// The generated stubs' shared body: log the name once, CUDA_ERROR_NOT_SUPPORTED.
extern "C" CUresult emudev_not_supported(const char* name, int* logged) {
    if (!*logged) {
        *logged = 1;
        log("%s is not implemented by the emulated CUDA device: CUDA_ERROR_NOT_SUPPORTED", name);
    }
    return NOT_SUPPORTED;
}
