/* bench_gemm: GFLOP/s of mlp_sgemm vs OpenBLAS (and BLIS when installed) in one process.
 * Libraries alternate within every round (with a pause so that the previous one's worker threads go idle),
 * and each figure is the median over rounds. Also measures the single-core FMA peak.
 *
 * usage: bench_gemm [--rounds N] [--threads 1,2] [--quick] [--only <text in shape names>] */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mlnetmlp.h"

typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                               float *, int);
typedef void (*set_threads_fn)(int);
typedef void (*blis_set_threads_fn)(long);

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112, MAX_LIBS = 3, MAX_ROUNDS = 31 };

typedef struct library {
    const char *name;
    cblas_sgemm_fn sgemm;
    set_threads_fn set_threads;
    blis_set_threads_fn blis_set_threads;
} library;

typedef struct shape {
    const char *name;
    int ta, tb;
    int m, n, k;
} shape;

static int lib_count;
static library libs[MAX_LIBS];

static void mlp_call(const shape *s, const float *a, const float *b, float *c)
{
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    if (mlp_sgemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n) != 0) {
        fprintf(stderr, "mlp_sgemm failed: %s\n", mlp_last_error_message());
        exit(1);
    }
}

static int bf16_lib = -1; /* --bf16: mlp_sgemm_bf16 as one more "library" */

static void run(int lib, const shape *s, const float *a, const float *b, float *c)
{
    if (lib == 0) {
        mlp_call(s, a, b, c);
        return;
    }
    if (lib == bf16_lib) {
        const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
        if (mlp_sgemm_bf16(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n) != 0) {
            fprintf(stderr, "mlp_sgemm_bf16 failed: %s\n", mlp_last_error_message());
            exit(1);
        }
        return;
    }
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    libs[lib].sgemm(CBLAS_ROW_MAJOR, s->ta ? CBLAS_TRANS : CBLAS_NO_TRANS, s->tb ? CBLAS_TRANS : CBLAS_NO_TRANS, s->m, s->n,
                    s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
}

static void set_threads(int threads)
{
    mlp_set_num_threads(threads);
    for (int i = 1; i < lib_count; ++i) {
        if (libs[i].set_threads) libs[i].set_threads(threads);
        if (libs[i].blis_set_threads) libs[i].blis_set_threads(threads);
    }
}

static void load_library(const char *name, const char *file, const char *threads_symbol, int blis)
{
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("# %s not found (%s): not compared\n", name, file);
        return;
    }
    library *l = &libs[lib_count];
    l->name = name;
    *(void **)&l->sgemm = dlsym(h, "cblas_sgemm");
    if (blis) *(void **)&l->blis_set_threads = dlsym(h, threads_symbol);
    else *(void **)&l->set_threads = dlsym(h, threads_symbol);
    if (!l->sgemm) {
        printf("# %s has no cblas_sgemm: not compared\n", name);
        return;
    }
    ++lib_count;
}

static double gflops_once(int lib, const shape *s, const float *a, const float *b, float *c)
{
    const double flops = 2.0 * s->m * s->n * s->k;
    double t0 = bench_now();
    run(lib, s, a, b, c);
    double single = bench_now() - t0;
    int iterations = single > 0.05 ? 1 : (int)(0.05 / (single > 1e-7 ? single : 1e-7)) + 1;
    t0 = bench_now();
    for (int i = 0; i < iterations; ++i) run(lib, s, a, b, c);
    return flops * iterations / (bench_now() - t0) * 1e-9;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static double measure_peak(float (*loop)(int64_t), double flops_per_iteration)
{
    const int64_t iterations = 200000000;
    double best = 0;
    for (int r = 0; r < 3; ++r) {
        double t0 = bench_now();
        volatile float sink = loop(iterations);
        (void)sink;
        double g = flops_per_iteration * (double)iterations / (bench_now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv)
{
    int rounds = 5, quick = 0, thread_list[4] = {1, 2, 0, 0}, thread_count = 2;
    const char *only = NULL;
    int with_bf16 = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bf16")) with_bf16 = 1;
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            thread_count = 0;
            for (char *t = strtok(argv[++i], ","); t && thread_count < 4; t = strtok(NULL, ",")) thread_list[thread_count++] = atoi(t);
        } else {
            fprintf(stderr, "usage: bench_gemm [--rounds N] [--threads 1,2] [--quick] [--only <text in shape names>] [--bf16]\n");
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;

    libs[0].name = "mlnetmlp";
    lib_count = 1;
    load_library("openblas", "libopenblas.so.0", "openblas_set_num_threads", 0);
    load_library("blis", "libblis.so.4", "bli_thread_set_num_threads", 1);
    if (with_bf16 && mlp_has_bfloat16()) { /* the ratio column then reads mlnetmlp float32 / bfloat16 */
        bf16_lib = lib_count;
        libs[lib_count++].name = "mlnetmlp-bf16";
    } else if (with_bf16) {
        printf("# --bf16: this CPU has no AVX512_BF16\n");
    }

    const double ymm_peak = measure_peak(bench_fma_peak_loop, bench_fma_peak_flops_per_iteration());
    printf("# isa %s; single-core FMA peak (register-only loop): ymm %.1f GFLOP/s", mlp_isa(), ymm_peak);
    double peak = ymm_peak; /* the % column: against the widest loop the chosen kernels use */
    if (bench_fma_peak_zmm_supported()) {
        const double zmm_peak = measure_peak(bench_fma_peak_zmm_loop, bench_fma_peak_zmm_flops_per_iteration());
        printf(", zmm %.1f GFLOP/s", zmm_peak);
        if (strcmp(mlp_isa(), "avx512") == 0) peak = zmm_peak;
    }
    printf("\n");

    static const shape shapes[] = {
        {"square 128", 0, 0, 128, 128, 128},     {"square 256", 0, 0, 256, 256, 256},
        {"square 512", 0, 0, 512, 512, 512},     {"square 1024", 0, 0, 1024, 1024, 1024},
        {"square 2048", 0, 0, 2048, 2048, 2048},
        {"B128 fwd 784x256", 0, 0, 128, 256, 784}, {"B128 fwd 256x128", 0, 0, 128, 128, 256},
        {"B128 fwd 128x10", 0, 0, 128, 10, 128},   {"B128 dW 784x256", 1, 0, 784, 256, 128},
        {"B128 dW 256x128", 1, 0, 256, 128, 128},  {"B128 dW 128x10", 1, 0, 128, 10, 128},
        {"B128 dX 256<-128", 0, 1, 128, 256, 128}, {"B128 dX 128<-10", 0, 1, 128, 128, 10},
        {"B256 fwd 784x256", 0, 0, 256, 256, 784}, {"B256 fwd 256x128", 0, 0, 256, 128, 256},
        {"B256 fwd 128x10", 0, 0, 256, 10, 128},   {"B256 dW 784x256", 1, 0, 784, 256, 256},
        {"B256 dW 256x128", 1, 0, 256, 128, 256},  {"B256 dW 128x10", 1, 0, 128, 10, 256},
        {"B256 dX 256<-128", 0, 1, 256, 256, 128}, {"B256 dX 128<-10", 0, 1, 256, 128, 10},
    };
    const int shape_count = (int)(sizeof shapes / sizeof shapes[0]);

    for (int ti = 0; ti < thread_count; ++ti) {
        const int threads = thread_list[ti];
        set_threads(threads);
        printf("\n## %d thread%s, median of %d rounds (GFLOP/s; ratio = mlnetmlp / other)\n", threads, threads > 1 ? "s" : "",
               rounds);
        printf("| shape | M | N | K | mlnetmlp |");
        for (int l = 1; l < lib_count; ++l) printf(" %s | ratio |", libs[l].name);
        printf(" %% of %d-core peak |\n|---|---|---|---|---|", threads);
        for (int l = 1; l < lib_count; ++l) printf("---|---|");
        printf("---|\n");
        double log_ratio[MAX_LIBS] = {0}, target_log_ratio[MAX_LIBS] = {0}, worst_wide[MAX_LIBS], worst_thin[MAX_LIBS];
        for (int l = 0; l < MAX_LIBS; ++l) worst_wide[l] = worst_thin[l] = INFINITY;
        int counted = 0, target_counted = 0;
        for (int si = 0; si < shape_count; ++si) {
            const shape *s = &shapes[si];
            if ((quick && s->m * (double)s->n * s->k > 600e6) || (only && !strstr(s->name, only))) continue;
            const size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
            float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float)), *c = malloc(nc * sizeof(float));
            float *ref = malloc(nc * sizeof(float));
            uint64_t seed = 12345;
            for (size_t i = 0; i < na; ++i) a[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / (1 << 24) - 0.5f;
            for (size_t i = 0; i < nb; ++i) b[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / (1 << 24) - 0.5f;
            double results[MAX_LIBS][MAX_ROUNDS];
            for (int l = 0; l < lib_count; ++l) run(l, s, a, b, c); /* warm-up: pages, thread pools */
            if (lib_count > 1) { /* sanity: the results agree */
                run(1, s, a, b, ref);
                run(0, s, a, b, c);
                double worst = 0;
                for (size_t i = 0; i < nc; ++i) worst = fmax(worst, fabs((double)c[i] - ref[i]));
                if (worst > 1e-3 * sqrt((double)s->k)) printf("# WARNING %s: max difference from %s %g\n", s->name, libs[1].name, worst);
            }
            for (int r = 0; r < rounds; ++r)
                for (int j = 0; j < lib_count; ++j) {
                    const int l = (j + r) % lib_count; /* rotate the order every round */
                    pause_ms(150); /* longer than OpenBLAS's default busy-wait (2^28 cycles): its workers must be asleep */
                    results[l][r] = gflops_once(l, s, a, b, c);
                }
            double med[MAX_LIBS];
            for (int l = 0; l < lib_count; ++l) med[l] = bench_median(results[l], rounds);
            printf("| %s | %d | %d | %d | %.1f |", s->name, s->m, s->n, s->k, med[0]);
            /* the target set: square >= 256 and the MLP shapes; thin = N or K of at most 10 */
            const int in_target = s->m * (double)s->n * s->k > 128.0 * 128 * 128 || strncmp(s->name, "square", 6) != 0;
            const int thin = s->n <= 10 || s->k <= 10;
            for (int l = 1; l < lib_count; ++l) {
                const double ratio = med[0] / med[l];
                printf(" %.1f | %.2f |", med[l], ratio);
                log_ratio[l] += log(ratio);
                if (in_target) target_log_ratio[l] += log(ratio);
                if (thin) worst_thin[l] = fmin(worst_thin[l], ratio);
                else worst_wide[l] = fmin(worst_wide[l], ratio);
            }
            printf(" %.0f%% |\n", peak > 0 ? 100.0 * med[0] / (peak * threads) : 0.0);
            ++counted;
            target_counted += in_target;
            free(a), free(b), free(c), free(ref);
        }
        for (int l = 1; l < lib_count; ++l) {
            printf("geometric mean ratio vs %s over %d shapes: %.2f", libs[l].name, counted, exp(log_ratio[l] / counted));
            if (target_counted)
                printf("; over square >= 256 and the MLP shapes (%d): %.2f", target_counted,
                       exp(target_log_ratio[l] / target_counted));
            printf("; lowest ratio with N and K > 10: %.2f; lowest thin (N or K = 10): %.2f\n", worst_wide[l], worst_thin[l]);
        }
    }
    return 0;
}
