#define _POSIX_C_SOURCE 200809L
/* The single-core FMA peak with 512-bit vectors: the register-only loop of peak.c on zmm registers. Call it only
 * when the CPU has AVX-512F (bench_fma_peak_zmm_supported). */
#include <stdint.h>

#include "bench.h"

#if defined(__AVX512F__)
#  include <immintrin.h>

int bench_fma_peak_zmm_supported(void) { return __builtin_cpu_supports("avx512f"); }

double bench_fma_peak_zmm_flops_per_iteration(void) { return 12.0 * 16 * 2; }

float bench_fma_peak_zmm_loop(int64_t iterations)
{
    __m512 a0 = _mm512_set1_ps(1.00f), a1 = _mm512_set1_ps(1.01f), a2 = _mm512_set1_ps(1.02f), a3 = _mm512_set1_ps(1.03f);
    __m512 a4 = _mm512_set1_ps(1.04f), a5 = _mm512_set1_ps(1.05f), a6 = _mm512_set1_ps(1.06f), a7 = _mm512_set1_ps(1.07f);
    __m512 a8 = _mm512_set1_ps(1.08f), a9 = _mm512_set1_ps(1.09f), a10 = _mm512_set1_ps(1.10f), a11 = _mm512_set1_ps(1.11f);
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i) {
        a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c);
        a3 = _mm512_fmadd_ps(a3, m, c); a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c);
        a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c); a8 = _mm512_fmadd_ps(a8, m, c);
        a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s);
}
#else
int bench_fma_peak_zmm_supported(void) { return 0; }
double bench_fma_peak_zmm_flops_per_iteration(void) { return 0.0; }
float bench_fma_peak_zmm_loop(int64_t iterations) { (void)iterations; return 0.0f; }
#endif
