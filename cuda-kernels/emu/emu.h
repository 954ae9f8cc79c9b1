// A tiny CUDA execution emulator for checking parrot's kernels on a machine without a GPU.
//
// The .cu files are compiled as host C++ with this header forced in first (g++ -include emu.h). Each CUDA
// thread of a block runs as a cooperative fiber (on x86-64 a ten-instruction register/stack switch, elsewhere
// ucontext, whose swapcontext costs a system call per switch); __syncthreads, __syncwarp and the warp shuffles are
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
//
// Warp-collective tensor-core ops (mma.sync m16n8k16 bf16 and m16n8k8 tf32, used by flash_attention.cu through
// PARROT_EMU) are emulated from the PTX ISA's fragment layouts: every lane posts its A, B, C registers, a warp
// barrier, then each lane rebuilds the 16×16 (16×8) A, the B and C tiles from all lanes' registers and computes its
// own D elements (products and sums in double, rounded once to float). A kernel whose fragment bookkeeping
// disagrees with the hardware layout gives wrong numbers here too. atomicAdd is a plain read-add-write: fibers
// switch only at barriers, so it is atomic in the emulator.
#pragma once
#define PARROT_EMU 1

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
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

// Fiber switch. x86-64: save the callee-saved registers on the current stack, swap stack pointers, restore.
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
#define EMU_FAST_SWITCH 1
extern "C" void emu_switch(void** save_sp, void* load_sp);
// Weak, so that several translation units with this header (the emulated device links one per kernel family) can
// each carry it; the linker keeps one.
asm(R"(
    .text
    .weak emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
)");
#endif

struct Fiber {
    ucontext_t ctx;
    void* sp = nullptr;            // saved stack pointer (fast switch)
    std::vector<char> stack;
    dim3 tid;
    Wait wait = Wait::RUN;
    unsigned long long shfl = 0;   // value posted for a shuffle
    uint32_t xch[12] = {};         // registers posted for a warp-collective matrix op
    long long mmaCount = 0;        // warp-collective matrix ops this fiber has joined (same in every lane)
};

// One warp's operands of its current matrix op, decoded once by the first lane that gets there.
struct WarpMma {
    long long gen = -1;
    double A[16][16], B[16][8], C[16][8];
};

struct Block {
    std::vector<Fiber> fibers;
    ucontext_t sched;
    void* schedSp = nullptr;
    std::vector<WarpMma> mma;
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
#ifdef EMU_FAST_SWITCH
    emu_switch(&g_block->fibers[g_block->current].sp, g_block->schedSp);
#else
    swapcontext(&g_block->fibers[g_block->current].ctx, &g_block->sched);
#endif
}

inline void yield(Wait w) {
    Fiber& f = g_block->fibers[g_block->current];
    f.wait = w;
#ifdef EMU_FAST_SWITCH
    emu_switch(&f.sp, g_block->schedSp);
#else
    swapcontext(&f.ctx, &g_block->sched);
#endif
}

// A fresh fiber's stack for the fast switch: six zero registers, then the entry as the return address, entered
// with the stack aligned as right after a call.
inline void* fresh_stack(std::vector<char>& stack) {
    uintptr_t top = ((uintptr_t)stack.data() + stack.size()) & ~(uintptr_t)15;
    void** sp = (void**)top;
    *--sp = nullptr;                                       // the entry's (unused) return address slot
    *--sp = (void*)+[]() { fiber_entry(); std::abort(); };
    for (int i = 0; i < 6; ++i) *--sp = nullptr;
    return sp;
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
#ifdef EMU_FAST_SWITCH
        f.sp = fresh_stack(f.stack);
#else
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.data();
        f.ctx.uc_stack.ss_size = f.stack.size();
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, fiber_entry, 0);
#endif
        f.tid = dim3(i % block.x, (i / block.x) % block.y, i / (block.x * block.y));
        f.wait = Wait::RUN;
        f.mmaCount = 0;
    }
    b.mma.assign((n + 31) / 32, WarpMma());
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
#ifdef EMU_FAST_SWITCH
                emu_switch(&b.schedSp, f.sp);
#else
                swapcontext(&b.sched, &f.ctx);
#endif
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

// ---- warp-collective matrix multiply-accumulate (mma.sync), fragment layouts of the PTX ISA -------------------

inline float bf16_bits_to_float(uint32_t h) {
    const uint32_t u = (h & 0xffffu) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// The tf32 operand: the hardware reads the sign, exponent and top 10 mantissa bits of the 32-bit register.
inline float tf32_bits_to_float(uint32_t u) {
    u &= 0xffffe000u;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// D = A·B + C for one m16n8kK tile held by the warp. kind 0: m16n8k16 .bf16 (A: 4 regs of 2 bf16, B: 2 regs of
// 2 bf16); kind 1: m16n8k8 .tf32 (A: 4 regs, B: 2 regs, one tf32 each). groupID g = lane >> 2, t = lane % 4:
//   bf16  A reg r: row g + 8·(r&1), cols 2t + 8·(r>>1) (low half) and +1 (high half);
//         B reg r: rows (k) 2t + 8·r (low) and +1 (high), col n = g;
//   tf32  A reg r: row g + 8·(r&1), col t + 4·(r>>1);  B reg r: row (k) t + 4·r, col n = g;
//   C/D   elem e: row g + 8·(e>>1), col 2t + (e&1).
inline void mma_tile(int kind, float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]) {
    Block& blk = *g_block;
    const int me = blk.current, base = (me / 32) * 32;
    Fiber& f = blk.fibers[me];
    for (int r = 0; r < 4; ++r) f.xch[r] = a[r];
    for (int r = 0; r < 2; ++r) f.xch[4 + r] = b[r];
    for (int e = 0; e < 4; ++e) f.xch[6 + e] = float_bits(c[e]);
    yield(Wait::WARP_BARRIER);                              // every lane has posted
    const int K = kind == 0 ? 16 : 8;
    WarpMma& wm = blk.mma[me / 32];
    const long long gen = f.mmaCount++;
    if (wm.gen != gen) {                                    // the first lane of the warp here decodes
        wm.gen = gen;
        std::memset(wm.A, 0, sizeof wm.A);
        std::memset(wm.B, 0, sizeof wm.B);
        double (&A)[16][16] = wm.A;
        double (&Bm)[16][8] = wm.B;
        double (&C)[16][8] = wm.C;
        for (int L = 0; L < 32; ++L) {
            const uint32_t* x = blk.fibers[base + L].xch;
            const int gL = L >> 2, tL = L & 3;
            for (int r = 0; r < 4; ++r) {
                const int row = gL + 8 * (r & 1);
                if (kind == 0) {
                    const int col = 2 * tL + 8 * (r >> 1);
                    A[row][col] = bf16_bits_to_float(x[r]);
                    A[row][col + 1] = bf16_bits_to_float(x[r] >> 16);
                } else {
                    A[row][tL + 4 * (r >> 1)] = tf32_bits_to_float(x[r]);
                }
            }
            for (int r = 0; r < 2; ++r) {
                if (kind == 0) {
                    const int k = 2 * tL + 8 * r;
                    Bm[k][gL] = bf16_bits_to_float(x[4 + r]);
                    Bm[k + 1][gL] = bf16_bits_to_float(x[4 + r] >> 16);
                } else {
                    Bm[tL + 4 * r][gL] = tf32_bits_to_float(x[4 + r]);
                }
            }
            for (int e = 0; e < 4; ++e) {
                float v;
                std::memcpy(&v, &x[6 + e], 4);
                C[gL + 8 * (e >> 1)][2 * tL + (e & 1)] = v;
            }
        }
    }
    const double (&A)[16][16] = wm.A;
    const double (&Bm)[16][8] = wm.B;
    const double (&C)[16][8] = wm.C;
    const int g = (me - base) >> 2, t = (me - base) & 3;
    for (int e = 0; e < 4; ++e) {
        const int row = g + 8 * (e >> 1), col = 2 * t + (e & 1);
        double acc = C[row][col];
        for (int k = 0; k < K; ++k) acc += A[row][k] * Bm[k][col];
        d[e] = (float)acc;
    }
    yield(Wait::WARP_BARRIER);                              // every lane has read before the next post
}

}  // namespace emu

inline void __syncthreads() { emu::yield(emu::Wait::BLOCK_BARRIER); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::yield(emu::Wait::WARP_BARRIER); }
template <typename T>
T __shfl_xor_sync(unsigned, T v, int offset) { return emu::shfl_xor(v, offset); }
struct alignas(16) float4 {
    float x, y, z, w;
};
struct alignas(8) uint2 {
    unsigned x, y;
};
inline float __expf(float x) { return std::exp(x); }
inline float atomicAdd(float* p, float v) {
    const float old = *p;
    *p = old + v;
    return old;
}
inline unsigned __float_as_uint(float f) { return emu::float_bits(f); }
inline float __uint_as_float(unsigned u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
