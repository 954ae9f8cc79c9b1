// Shared by the emulated device's translation units (driver.cpp, memory.cpp, ptx.cpp): configuration from the
// environment, the allocation table, the PTX model, and the launch the fault handler reports.
#pragma once
#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace emudev {

// ---- CUDA driver API values used here (cuda.h is not needed to build: g++ only) ---------------------------
enum Result : int {
    SUCCESS = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    NO_DEVICE = 100,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    INVALID_CONTEXT = 201,
    NO_BINARY_FOR_GPU = 209,
    INVALID_PTX = 218,
    UNSUPPORTED_PTX_VERSION = 222,
    INVALID_HANDLE = 400,
    ILLEGAL_STATE = 401,
    NOT_FOUND = 500,
    ILLEGAL_ADDRESS = 700,
    LAUNCH_OUT_OF_RESOURCES = 701,
    NOT_SUPPORTED = 801,
    UNKNOWN = 999,
};

// ---- configuration (environment; see cuda-kernels/README.md) ---------------------------------------------
struct Config {
    std::string name;          // "emulated CUDA device (CPU)", the name parrot recognizes it by
    int ccMajor, ccMinor;      // PARROT_EMU_CC, default 9.0
    int sms;                   // PARROT_EMU_SMS, default 132
    size_t totalMem;           // PARROT_EMU_MEM_GIB, default 80
    int driverVersion;         // PARROT_EMU_DRIVER_VERSION, default 12060 (CUDA 12.6, what JCuda 12.6 expects)
    int smemOptinMax;          // PARROT_EMU_SMEM_OPTIN_KIB, default 227 (Hopper)
    uint32_t fill;             // PARROT_EMU_FILL: nan (0xFFC00000 per word, default), zero, or 0xXXXXXXXX
    size_t align;              // PARROT_EMU_ALIGN: 4 (default, end exactly at the guard) .. 256 (start aligned)
    int leaks;                 // PARROT_EMU_LEAKS: 0 off, 1 report (default), 2 fail
    std::string leakReport;    // PARROT_EMU_LEAK_REPORT: file appended with one line per context release
    bool checkArgs;            // PARROT_EMU_CHECK_ARGS: pointer arguments must lie in live allocations (default 1)
    bool trace;                // PARROT_EMU_TRACE: one stderr line per launch
};
const Config& config();
int maxPtxIsa(int driverVersion);  // e.g. 12060 -> 85 (PTX ISA 8.5)

// One line to stderr, prefixed "emu-cuda: ".
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// ---- memory (memory.cpp) ---------------------------------------------------------------------------------
Result mem_alloc(uintptr_t* out, size_t bytes);
Result mem_free(uintptr_t p, const char* call);
size_t mem_in_use();
// Checks that [p, p + bytes) lies inside one live allocation; on failure logs "<call>: ..." and returns false.
bool mem_check(uintptr_t p, size_t bytes, const char* call);
// Describes where p points ("inside allocation #3 (...)", "12 bytes past the end of ...", "in freed ...").
std::string mem_describe(uintptr_t p);
// The live allocation holding p (cuMemGetAddressRange); false when none does.
bool mem_range(uintptr_t p, uintptr_t* base, size_t* bytes);
// Is p null, or inside (or one past the end of) a live allocation?
bool mem_pointer_ok(uintptr_t p);
// Frees every live allocation, returning how many there were and their bytes (context release).
void mem_release_all(size_t* count, size_t* bytes, std::string* list);
void install_fault_handler();

// ---- the launch in progress (what a fault reports) -------------------------------------------------------
struct Launch {
    const char* kernel = nullptr;
    const char* family = nullptr;
    unsigned long long number = 0;
    unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
    unsigned dynamicShared = 0;
    pthread_t thread{};        // the thread running it (other threads' faults are not ours)
};
extern Launch g_launch;          // kernel == nullptr when no kernel runs
extern unsigned long long g_launches;

// ---- PTX (ptx.cpp) ----------------------------------------------------------------------------------------
struct PtxParam {
    std::string name;
    int size = 0;
    int align = 0;
};
struct PtxEntry {
    std::string name;
    std::vector<PtxParam> params;
    int maxntid[3] = {0, 0, 0};   // 0: none
    int reqntid[3] = {0, 0, 0};
    long staticShared = 0;
    bool dynamicShared = false;   // declares an .extern .shared array
};
struct PtxModule {
    int isaMajor = 0, isaMinor = 0;
    std::string target;
    int targetSm = 0;             // 90 for sm_90 / sm_90a
    bool archSpecific = false;    // sm_90a: runs only on exactly that capability
    int addressSize = 0;
    std::vector<PtxEntry> entries;
};
// Parses the PTX text; false with a message naming the line on malformed input.
bool parse_ptx(const char* text, size_t len, PtxModule* out, std::string* error);

}  // namespace emudev
