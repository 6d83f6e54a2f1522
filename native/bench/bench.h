#ifndef MLP_BENCH_H
#define MLP_BENCH_H

#include <stdint.h>
#include <time.h>

double bench_fma_peak_flops_per_iteration(void);
float bench_fma_peak_loop(int64_t iterations);

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
