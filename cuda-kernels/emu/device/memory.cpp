// Device memory of the emulated CUDA device, built to catch what compute-sanitizer catches on a GPU.
//
// One huge PROT_NONE reservation (address space only) is handed out front to back and never reused, so a
// pointer to freed memory can never alias a later allocation. Each allocation gets whole pages made readable
// and writable, followed by one PROT_NONE guard page, and the buffer is placed so that its END touches the guard:
// the first byte past the end faults. The start is then only as aligned as the size allows (cudaMalloc
// guarantees 256 bytes): with PARROT_EMU_ALIGN=a the size is rounded up to a multiple of a (4 by default, so
// any overrun of a float or int array faults; a kernel that needs a 16-byte aligned base for float4 gets one when
// its size is a multiple of 16). PARROT_EMU_ALIGN=256 gives cudaMalloc's alignment and leaves up to 255 bytes
// past the end unguarded. The bytes between the page start and the buffer start are accessible (an underrun
// within them is not caught; beyond them is the previous allocation's guard page).
//
// A freed allocation's pages are given back to the OS (madvise) and made PROT_NONE: use after free faults. New
// allocations are filled with a NaN pattern, so a read of memory nobody wrote shows up as NaN in the parity
// checks (what initcheck finds). The fault handler turns a SIGSEGV inside the reservation into one line naming
// the kernel, its launch and the nearest allocation, then aborts; any other SIGSEGV goes to the handler that was
// installed before (the JVM's, which relies on SIGSEGV for its own purposes).
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "internal.h"

namespace emudev {

namespace {

constexpr size_t kPage = 4096;

struct Alloc {
    uintptr_t base;        // what cuMemAlloc returned
    size_t bytes;          // what was asked for
    uintptr_t region;      // first accessible page
    size_t pages;          // accessible pages; the guard page follows
    unsigned long long id; // 1, 2, ... in allocation order
    bool freed;
    unsigned long long freedAtLaunch;  // launches run before the free (to place it in time)
};

uintptr_t g_arena = 0, g_arenaEnd = 0, g_cursor = 0;
std::map<uintptr_t, Alloc> g_allocs;   // by base; freed ones stay, to describe use-after-free faults
size_t g_inUse = 0;
unsigned long long g_nextId = 1;

bool reserve() {
    if (g_arena) return true;
    const char* e = std::getenv("PARROT_EMU_ARENA_GIB");
    size_t gib = e ? std::strtoull(e, nullptr, 10) : 4096;   // 4 TiB of address space, nothing committed
    if (gib == 0) gib = 4096;
    size_t size = gib << 30;
    void* p = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        log("cannot reserve %zu GiB of address space for device memory (PARROT_EMU_ARENA_GIB): %s", gib,
            std::strerror(errno));
        return false;
    }
    g_arena = (uintptr_t)p;
    g_arenaEnd = g_arena + size;
    g_cursor = g_arena + kPage;   // a guard page before the first allocation too
    return true;
}

const Alloc* nearest(uintptr_t p) {
    if (g_allocs.empty()) return nullptr;
    auto it = g_allocs.upper_bound(p);   // first with base > p
    const Alloc* after = it == g_allocs.end() ? nullptr : &it->second;
    const Alloc* before = it == g_allocs.begin() ? nullptr : &std::prev(it)->second;
    if (before && p < before->base + before->bytes) return before;   // inside
    if (before && p < before->region + (before->pages + 1) * kPage) return before;   // its slack or guard
    if (after && p >= after->region) return after;                  // the slack before the start
    return before ? before : after;
}

}  // namespace

Result mem_alloc(uintptr_t* out, size_t bytes) {
    if (bytes == 0) {
        log("cuMemAlloc: 0 bytes requested (CUDA refuses this with CUDA_ERROR_INVALID_VALUE)");
        return INVALID_VALUE;
    }
    if (!reserve()) return OUT_OF_MEMORY;
    const Config& c = config();
    if (bytes > c.totalMem - std::min(c.totalMem, g_inUse)) {
        log("cuMemAlloc: %zu bytes requested, %zu of %zu in use (PARROT_EMU_MEM_GIB)", bytes, g_inUse, c.totalMem);
        return OUT_OF_MEMORY;
    }
    const size_t rounded = (bytes + c.align - 1) / c.align * c.align;
    const size_t pages = (rounded + kPage - 1) / kPage;
    if (g_cursor + (pages + 1) * kPage > g_arenaEnd) {
        log("cuMemAlloc: the %zu GiB address-space reservation is used up (addresses are never reused; "
            "raise PARROT_EMU_ARENA_GIB)", (size_t)((g_arenaEnd - g_arena) >> 30));
        return OUT_OF_MEMORY;
    }
    const uintptr_t region = g_cursor;
    if (mprotect((void*)region, pages * kPage, PROT_READ | PROT_WRITE) != 0) {
        log("cuMemAlloc: mprotect of %zu pages failed: %s", pages, std::strerror(errno));
        return OUT_OF_MEMORY;
    }
    g_cursor += (pages + 1) * kPage;
    const uintptr_t base = region + pages * kPage - rounded;
    uint32_t* w = (uint32_t*)region;
    const size_t words = pages * kPage / 4;
    for (size_t i = 0; i < words; ++i) w[i] = c.fill;
    g_allocs[base] = Alloc{base, bytes, region, pages, g_nextId++, false, 0};
    g_inUse += bytes;
    *out = base;
    return SUCCESS;
}

Result mem_free(uintptr_t p, const char* call) {
    if (p == 0) return SUCCESS;   // cuMemFree(0) is a no-op, like free(NULL)
    auto it = g_allocs.find(p);
    if (it == g_allocs.end()) {
        log("%s(0x%zx): not a pointer cuMemAlloc returned (%s)", call, (size_t)p, mem_describe(p).c_str());
        return INVALID_VALUE;
    }
    Alloc& a = it->second;
    if (a.freed) {
        log("%s(0x%zx): double free of allocation #%llu (%zu bytes), freed after launch %llu", call, (size_t)p,
            a.id, a.bytes, a.freedAtLaunch);
        return INVALID_VALUE;
    }
    madvise((void*)a.region, a.pages * kPage, MADV_DONTNEED);
    mprotect((void*)a.region, a.pages * kPage, PROT_NONE);
    a.freed = true;
    a.freedAtLaunch = g_launches;
    g_inUse -= a.bytes;
    return SUCCESS;
}

size_t mem_in_use() {
    return g_inUse;
}

bool mem_pointer_ok(uintptr_t p) {
    if (p == 0) return true;
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return false;
    const Alloc& a = std::prev(it)->second;
    return !a.freed && p <= a.base + a.bytes;
}

bool mem_range(uintptr_t p, uintptr_t* base, size_t* bytes) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return false;
    const Alloc& a = std::prev(it)->second;
    if (a.freed || p >= a.base + a.bytes) return false;
    *base = a.base;
    *bytes = a.bytes;
    return true;
}

bool mem_check(uintptr_t p, size_t bytes, const char* call) {
    auto it = g_allocs.upper_bound(p);
    const Alloc* a = it == g_allocs.begin() ? nullptr : &std::prev(it)->second;
    if (a && !a->freed && p >= a->base && p + bytes <= a->base + a->bytes && p + bytes >= p) return true;
    if (a && !a->freed && p >= a->base && p < a->base + a->bytes)
        log("%s: %zu bytes at 0x%zx run %zu bytes past the end of allocation #%llu (%zu bytes at 0x%zx)", call, bytes,
            (size_t)p, (size_t)(p + bytes - (a->base + a->bytes)), a->id, a->bytes, (size_t)a->base);
    else
        log("%s: %zu bytes at 0x%zx: not device memory (%s)", call, bytes, (size_t)p, mem_describe(p).c_str());
    return false;
}

std::string mem_describe(uintptr_t p) {
    char buf[256];
    const Alloc* a = nearest(p);
    if (p < g_arena || p >= g_arenaEnd || a == nullptr) {
        std::snprintf(buf, sizeof buf, "0x%zx is outside the emulated device's memory", (size_t)p);
        return buf;
    }
    const char* state = a->freed ? "freed " : "";
    char when[64] = "";
    if (a->freed) std::snprintf(when, sizeof when, ", freed after launch %llu", a->freedAtLaunch);
    if (p >= a->base && p < a->base + a->bytes)
        std::snprintf(buf, sizeof buf, "byte %zu of %sallocation #%llu (%zu bytes at 0x%zx%s)", (size_t)(p - a->base),
                      state, a->id, a->bytes, (size_t)a->base, when);
    else if (p >= a->base + a->bytes)
        std::snprintf(buf, sizeof buf, "%zu bytes past the end of %sa %zu-byte allocation #%llu at 0x%zx%s",
                      (size_t)(p - a->base - a->bytes), state, a->bytes, a->id, (size_t)a->base, when);
    else
        std::snprintf(buf, sizeof buf, "%zu bytes before the start of %sa %zu-byte allocation #%llu at 0x%zx%s",
                      (size_t)(a->base - p), state, a->bytes, a->id, (size_t)a->base, when);
    return buf;
}

void mem_release_all(size_t* count, size_t* bytes, std::string* list) {
    *count = 0;
    *bytes = 0;
    for (auto& kv : g_allocs) {
        Alloc& a = kv.second;
        if (a.freed) continue;
        if (*count < 8) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "%s#%llu %zu B", *count ? ", " : "", a.id, a.bytes);
            *list += buf;
        }
        ++*count;
        *bytes += a.bytes;
        mem_free(a.base, "context release");
    }
    if (*count > 8) *list += ", ...";
}

// ---- faults ------------------------------------------------------------------------------------------------

namespace {

struct sigaction g_oldSegv, g_oldBus;

void write_all(const char* s) {
    size_t n = std::strlen(s);
    while (n > 0) {
        ssize_t w = ::write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

extern "C" void emudev_position(unsigned* block, unsigned* thread);

void on_fault(int sig, siginfo_t* info, void* uctx) {
    const uintptr_t addr = (uintptr_t)info->si_addr;
    const bool inArena = addr >= g_arena && addr < g_arenaEnd && g_arena != 0;
    const bool inKernel = g_launch.kernel != nullptr && pthread_equal(pthread_self(), g_launch.thread);
    if (!inArena && !inKernel) {   // not ours: the JVM (or whoever came before) handles it
        struct sigaction& old = sig == SIGBUS ? g_oldBus : g_oldSegv;
        if (old.sa_flags & SA_SIGINFO) {
            if (old.sa_sigaction) { old.sa_sigaction(sig, info, uctx); return; }
        } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN && old.sa_handler) {
            old.sa_handler(sig);
            return;
        }
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    const char* access = "access";
#if defined(__x86_64__)
    if (uctx) access = (((ucontext_t*)uctx)->uc_mcontext.gregs[REG_ERR] & 2) ? "write" : "read";
#endif
    char where[320];
    if (inArena)
        std::snprintf(where, sizeof where, "invalid global %s at 0x%zx: %s", access, (size_t)addr,
                      mem_describe(addr).c_str());
    else if (addr == 0 && info->si_code == SI_KERNEL)
        std::snprintf(where, sizeof where, "general protection fault (a misaligned vector access? a float4 load "
                                           "needs a 16-byte aligned address)");
    else
        std::snprintf(where, sizeof where, "invalid %s at 0x%zx, outside the emulated device's memory", access,
                      (size_t)addr);
    char msg[768];
    if (inKernel) {
        unsigned b[3] = {0, 0, 0}, t[3] = {0, 0, 0};
        emudev_position(b, t);
        std::snprintf(msg, sizeof msg,
                      "emu-cuda: %s in kernel %s (%s.cu), launch #%llu grid (%u,%u,%u) block (%u,%u,%u), "
                      "at block (%u,%u,%u) thread (%u,%u,%u); aborting (compute-sanitizer would report this "
                      "as an invalid __global__ %s)\n",
                      where, g_launch.kernel, g_launch.family, g_launch.number, g_launch.grid[0], g_launch.grid[1],
                      g_launch.grid[2], g_launch.block[0], g_launch.block[1], g_launch.block[2], b[0], b[1], b[2],
                      t[0], t[1], t[2], access);
    } else {
        std::snprintf(msg, sizeof msg, "emu-cuda: %s, outside any kernel (host code touched device memory; "
                                       "last launch #%llu); aborting\n", where, g_launches);
    }
    write_all(msg);
    signal(SIGABRT, SIG_DFL);
    abort();
}

}  // namespace

void install_fault_handler() {
    static bool done = false;
    if (done) return;
    done = true;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_oldSegv);
    sigaction(SIGBUS, &sa, &g_oldBus);
}

}  // namespace emudev
