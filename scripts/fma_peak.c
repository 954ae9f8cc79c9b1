// The FP32 FMA throughput this machine's cores deliver (make cpu-peak): every core runs 10 independent chains of
// 256-bit FMAs (AVX2 + FMA; more chains than 2 pipes × 4-5 cycles of latency, so the pipes never wait) for one
// second, all cores at once. Why: /proc/cpuinfo's clock is the nominal one, and `parrot bench cpu` computes its
// peak from it; cores that boost (and VMs, which report the host's nominal clock) run FMA loops faster, so that
// peak flatters every fraction of it. The effective clock printed here goes to `parrot bench cpu --clock-ghz`.
// (A Java Vector API loop reaches only 50-80% of this rate and varies run to run, so it cannot serve as the
// reference.) Build: gcc -O2 -mavx2 -mfma -pthread scripts/fma_peak.c -o build/fma_peak
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

static void *run(void *arg) {
    Result *r = arg;
    __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,
           a9 = a0;
    pthread_barrier_wait(&start);
    double t0 = now(), t;
    long rounds = 0;
    do {
        for (long k = 0; k < INNER; k++) {
            a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
            a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
            a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
            a9 = _mm256_fmadd_ps(a9, b, c);
        }
        rounds++;
    } while ((t = now()) - t0 < seconds);
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(_mm256_add_ps(a6, a7),
                                                                                _mm256_add_ps(a8, a9))));
    r->sink = s[0];
    r->flops = (double) rounds * INNER * CHAINS * 8 * 2;
    r->elapsed = t - t0;
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : (int) sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) {
        fprintf(stderr, "fma_peak: the thread count must be a positive integer, got '%s'\n", argv[1]);
        return 2;
    }
    pthread_t *ts = malloc(sizeof(pthread_t) * threads);
    Result *rs = calloc(threads, sizeof(Result));
    pthread_barrier_init(&start, NULL, threads);
    for (int i = 0; i < threads; i++) pthread_create(&ts[i], NULL, run, &rs[i]);
    double total = 0, sink = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ts[i], NULL);
        total += rs[i].flops / rs[i].elapsed;
        sink += rs[i].sink;
    }
    // 2 FMA pipes × 8 lanes × 2 FLOP = 32 FLOP a cycle a core (the same rule as parrot's CpuPeak for AVX2 + FMA).
    double ghz = total / threads / 32 / 1e9;
    printf("fma_peak: %d threads, %.1f GFLOP/s FP32 (%.1f a core), effective clock %.2f GHz at 32 FLOP/cycle "
           "(checksum %.3f)\n", threads, total / 1e9, total / threads / 1e9, ghz, sink / threads);
    printf("fma_peak: parrot bench cpu --clock-ghz %.2f\n", ghz);
    return 0;
}
