/* An 8 x 8 register transpose for the AVX2 translation units (include only where -mavx2 is on). */
#ifndef MLP_TRANSPOSE_AVX2_H
#define MLP_TRANSPOSE_AVX2_H

#include <immintrin.h>

/* Transposes the 8x8 block in r0..r7 in place (r_i holds row i; afterwards column i). */
#define TRANSPOSE_8X8(r0, r1, r2, r3, r4, r5, r6, r7)                                              \
    do {                                                                                        \
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);                \
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);                \
        __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);                \
        __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);                \
        __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);      \
        __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);      \
        __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);      \
        __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);      \
        r0 = _mm256_permute2f128_ps(s0, s4, 0x20), r1 = _mm256_permute2f128_ps(s1, s5, 0x20);   \
        r2 = _mm256_permute2f128_ps(s2, s6, 0x20), r3 = _mm256_permute2f128_ps(s3, s7, 0x20);   \
        r4 = _mm256_permute2f128_ps(s0, s4, 0x31), r5 = _mm256_permute2f128_ps(s1, s5, 0x31);   \
        r6 = _mm256_permute2f128_ps(s2, s6, 0x31), r7 = _mm256_permute2f128_ps(s3, s7, 0x31);   \
    } while (0)

#endif
