// The FP32 FMA throughput this machine's cores deliver (make cpu-peak): every core runs 10 independent chains of
// FMAs of the widest kind the CPU has (512-bit with AVX-512F, else 256-bit AVX2 + FMA; chosen at run time, both
// compiled in) for one second, all cores at once; more chains than 2 pipes × 4-5 cycles of latency, so the pipes
// never wait. Why: /proc/cpuinfo's clock is the nominal one, and `parrot bench cpu` computes its peak from it;
// cores that boost (and VMs, which report the host's nominal clock) run FMA loops faster, so that peak flatters
// every fraction of it. The effective clock printed here goes to `parrot bench cpu --clock-ghz`; it assumes two
// FMA pipes of that width, as bench cpu's peak does. (A Java Vector API loop reaches only 50-80% of this rate and
// varies run to run, so it cannot serve as the reference.)
// Build: gcc -O2 -mavx2 -mfma -pthread scripts/fma_peak.c -o build/fma_peak (the AVX-512 loop has its own target).
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CHAINS 10
#define INNER 100000L

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double seconds = 1.0;
static pthread_barrier_t start;

typedef struct { double flops, elapsed; float sink; } Result;

// One timed loop per vector type: V the vector, FMA its fused multiply-add, SET1 its broadcast, LANES its floats.
#define FMA_LOOP(NAME, TARGET, V, FMA, SET1, LANES)                                                               \
    TARGET static void *NAME(void *arg) {                                                                         \
        Result *r = arg;                                                                                          \
        V b = SET1(0.9999999f), c = SET1(1e-7f);                                                                  \
        V a0 = SET1(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;       \
        pthread_barrier_wait(&start);                                                                             \
        double t0 = now(), t;                                                                                     \
        long rounds = 0;                                                                                          \
        do {                                                                                                      \
            for (long k = 0; k < INNER; k++) {                                                                    \
                a0 = FMA(a0, b, c); a1 = FMA(a1, b, c); a2 = FMA(a2, b, c); a3 = FMA(a3, b, c);                   \
                a4 = FMA(a4, b, c); a5 = FMA(a5, b, c); a6 = FMA(a6, b, c); a7 = FMA(a7, b, c);                   \
                a8 = FMA(a8, b, c); a9 = FMA(a9, b, c);                                                           \
            }                                                                                                     \
            rounds++;                                                                                             \
        } while ((t = now()) - t0 < seconds);                                                                     \
        float lanes[LANES];                                                                                       \
        V s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;                                                    \
        __builtin_memcpy(lanes, &s, sizeof lanes);                                                                \
        r->sink = lanes[0];                                                                                       \
        r->flops = (double) rounds * INNER * CHAINS * LANES * 2;                                                  \
        r->elapsed = t - t0;                                                                                      \
        return NULL;                                                                                              \
    }

FMA_LOOP(run256, , __m256, _mm256_fmadd_ps, _mm256_set1_ps, 8)
FMA_LOOP(run512, __attribute__((target("avx512f"))), __m512, _mm512_fmadd_ps, _mm512_set1_ps, 16)

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : (int) sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) {
        fprintf(stderr, "fma_peak: the thread count must be a positive integer, got '%s'\n", argv[1]);
        return 2;
    }
    pthread_t *ts = malloc(sizeof(pthread_t) * threads);
    Result *rs = calloc(threads, sizeof(Result));
    pthread_barrier_init(&start, NULL, threads);
    int wide = __builtin_cpu_supports("avx512f"), bits = wide ? 512 : 256, perCycle = wide ? 64 : 32;
    for (int i = 0; i < threads; i++) pthread_create(&ts[i], NULL, wide ? run512 : run256, &rs[i]);
    double total = 0, sink = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ts[i], NULL);
        total += rs[i].flops / rs[i].elapsed;
        sink += rs[i].sink;
    }
    // 2 FMA pipes × 8 or 16 lanes × 2 FLOP = 32 or 64 FLOP a cycle a core (parrot's CpuPeak rule for that width).
    double ghz = total / threads / perCycle / 1e9;
    printf("fma_peak: %d threads, %d-bit FMAs, %.1f GFLOP/s FP32 (%.1f a core), effective clock %.2f GHz at %d "
           "FLOP/cycle (checksum %.3f)\n", threads, bits, total / 1e9, total / threads / 1e9, ghz, perCycle,
           sink / threads);
    printf("fma_peak: parrot bench cpu --clock-ghz %.2f\n", ghz);
    return 0;
}
