#ifndef MLP_BENCH_H
#define MLP_BENCH_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

double bench_fma_peak_flops_per_iteration(void);
float bench_fma_peak_loop(int64_t iterations);
/* The same on zmm registers (peak_avx512.c); call the loop only when supported. */
int bench_fma_peak_zmm_supported(void);
double bench_fma_peak_zmm_flops_per_iteration(void);
float bench_fma_peak_zmm_loop(int64_t iterations);

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_compare_doubles(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of v[0 .. n) (sorts v). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
