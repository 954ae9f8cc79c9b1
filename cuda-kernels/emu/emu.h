// A tiny CUDA execution emulator for checking parrot's kernels on a machine without a GPU.
//
// The .cu files are compiled as host C++ with this header forced in first (g++ -include emu.h). Each CUDA
// thread of a block runs as a cooperative fiber (ucontext); __syncthreads, __syncwarp and the warp shuffles are
// barriers at which the scheduler switches fibers, so the kernels run with real block/warp semantics: shared
// memory is shared by the block (`__shared__` becomes `static`, blocks run one after another), shuffles exchange
// values between lanes. A deadlock (threads of a block or warp waiting at different barriers) aborts with a
// message. Scheduling policies (EMU_SCHEDULE), all deterministic:
//   inorder (default)  every runnable fiber runs once per pass, in thread order;
//   random             each runnable fiber is held back by a seeded coin on every pass;
//   greedy             warps get a random priority per block and only the first warp with a runnable fiber runs,
//                      so one warp races ahead as far as the barriers allow while the others have not moved:
//                      this exposes a missing __syncthreads around reused shared memory.
// Timing, memory coalescing and races inside one stretch of code between two barriers are not modelled.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ucontext.h>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    dim3() = default;
    dim3(unsigned x_, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {
inline dim3 g_threadIdx, g_blockIdx, g_blockDim, g_gridDim;
}  // namespace emu
#define threadIdx (emu::g_threadIdx)
#define blockIdx (emu::g_blockIdx)
#define blockDim (emu::g_blockDim)
#define gridDim (emu::g_gridDim)

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline void sincos(double x, double* s, double* c) { *s = std::sin(x); *c = std::cos(x); }

namespace emu {

enum class Wait { RUN, BLOCK_BARRIER, WARP_BARRIER, DONE };

struct Fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    dim3 tid;
    Wait wait = Wait::RUN;
    unsigned long long shfl = 0;   // value posted for a shuffle
};

struct Block {
    std::vector<Fiber> fibers;
    ucontext_t sched;
    int current = -1;
    std::function<void()> body;
};

inline Block* g_block = nullptr;

enum class Schedule { INORDER, RANDOM, GREEDY };
inline Schedule schedule() {
    static const Schedule s = [] {
        const char* e = std::getenv("EMU_SCHEDULE");
        if (e == nullptr || std::strcmp(e, "inorder") == 0) return Schedule::INORDER;
        if (std::strcmp(e, "random") == 0) return Schedule::RANDOM;
        if (std::strcmp(e, "greedy") == 0) return Schedule::GREEDY;
        std::fprintf(stderr, "emu: EMU_SCHEDULE must be inorder, random or greedy\n");
        std::exit(2);
    }();
    return s;
}

inline unsigned long long g_rng = 0x9E3779B97F4A7C15ull;
inline bool coin() {                                  // xorshift64
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng & 1;
}

inline void fiber_entry() {
    g_block->body();
    g_block->fibers[g_block->current].wait = Wait::DONE;
    swapcontext(&g_block->fibers[g_block->current].ctx, &g_block->sched);
}

inline void yield(Wait w) {
    Fiber& f = g_block->fibers[g_block->current];
    f.wait = w;
    swapcontext(&f.ctx, &g_block->sched);
}

inline int lane_of(int i) { return i % 32; }
inline int warp_of(int i) { return i / 32; }

// Runs one block to completion.
inline void run_block(const std::function<void()>& body, dim3 grid, dim3 block, dim3 bid) {
    static Block b;
    const int n = block.x * block.y * block.z;
    if ((int)b.fibers.size() < n) b.fibers.resize(n);
    b.body = body;
    g_block = &b;
    g_gridDim = grid;
    g_blockDim = block;
    g_blockIdx = bid;
    for (int i = 0; i < n; ++i) {
        Fiber& f = b.fibers[i];
        if (f.stack.empty()) f.stack.resize(256 * 1024);
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.data();
        f.ctx.uc_stack.ss_size = f.stack.size();
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, fiber_entry, 0);
        f.tid = dim3(i % block.x, (i / block.x) % block.y, i / (block.x * block.y));
        f.wait = Wait::RUN;
    }
    const int warps = (n + 31) / 32;
    std::vector<int> priority(warps);
    for (int w = 0; w < warps; ++w) priority[w] = w;
    if (schedule() == Schedule::GREEDY)
        for (int w = warps - 1; w > 0; --w) {
            int j = 0;
            for (int bit = 0; bit < 16; ++bit) j = (j << 1) | coin();
            std::swap(priority[w], priority[j % (w + 1)]);
        }
    for (;;) {
        bool ran = false;
        for (int attempt = 0; attempt < 2 && !ran; ++attempt) {
            const bool skip = attempt == 0 && schedule() == Schedule::RANDOM;
            int only = -1;                              // greedy: the one warp that runs this pass
            if (schedule() == Schedule::GREEDY)
                for (int w : priority) {
                    for (int i = w * 32; i < std::min(n, w * 32 + 32) && only < 0; ++i)
                        if (b.fibers[i].wait == Wait::RUN) only = w;
                    if (only >= 0) break;
                }
            for (int i = 0; i < n; ++i) {
                Fiber& f = b.fibers[i];
                if (f.wait != Wait::RUN || (skip && coin()) || (only >= 0 && i / 32 != only)) continue;
                b.current = i;
                g_threadIdx = f.tid;
                swapcontext(&b.sched, &f.ctx);
                ran = true;
            }
        }
        int done = 0, atBlock = 0;
        for (int i = 0; i < n; ++i) {
            done += b.fibers[i].wait == Wait::DONE;
            atBlock += b.fibers[i].wait == Wait::BLOCK_BARRIER;
        }
        if (done == n) break;
        bool released = false;
        if (atBlock > 0 && atBlock + done == n) {      // exited threads count as arrived
            for (int i = 0; i < n; ++i)
                if (b.fibers[i].wait == Wait::BLOCK_BARRIER) b.fibers[i].wait = Wait::RUN;
            released = true;
        }
        // warp barriers: a warp's lanes are released when every lane not done waits at the warp barrier
        for (int w = 0; w * 32 < n; ++w) {
            int lo = w * 32, hi = std::min(n, lo + 32), at = 0, live = 0;
            for (int i = lo; i < hi; ++i) {
                if (b.fibers[i].wait == Wait::DONE) continue;
                ++live;
                at += b.fibers[i].wait == Wait::WARP_BARRIER;
            }
            if (live > 0 && at == live) {
                for (int i = lo; i < hi; ++i)
                    if (b.fibers[i].wait == Wait::WARP_BARRIER) b.fibers[i].wait = Wait::RUN;
                released = true;
            }
        }
        if (!ran && !released) {
            std::fprintf(stderr, "emu: deadlock in block (%u,%u,%u): threads wait at different barriers\n", bid.x,
                         bid.y, bid.z);
            std::abort();
        }
    }
    g_block = nullptr;
}

template <typename F, typename... A>
void launch(F kernel, dim3 grid, dim3 block, A... args) {
    std::function<void()> body = [=]() { kernel(args...); };
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) run_block(body, grid, block, dim3(x, y, z));
}

template <typename T>
T shfl_xor(T v, int offset) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    Block& b = *g_block;
    const int me = b.current;
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    b.fibers[me].shfl = bits;
    yield(Wait::WARP_BARRIER);                              // everyone has posted
    const int partner = (me / 32) * 32 + ((me % 32) ^ offset);
    const unsigned long long got = b.fibers[partner].shfl;
    yield(Wait::WARP_BARRIER);                              // everyone has read before the next post
    T r;
    std::memcpy(&r, &got, sizeof(T));
    return r;
}

}  // namespace emu

inline void __syncthreads() { emu::yield(emu::Wait::BLOCK_BARRIER); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::yield(emu::Wait::WARP_BARRIER); }
template <typename T>
T __shfl_xor_sync(unsigned, T v, int offset) { return emu::shfl_xor(v, offset); }
