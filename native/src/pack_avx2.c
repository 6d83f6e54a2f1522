/* AVX2 packing of GEMM operands: 8x8 register transposes for the strided cases. Compiled with -mavx2 -mfma. */
#include <immintrin.h>

#include "kernels.h"
#include "transpose_avx2.h"

void mlp_pack_a_avx2(int32_t trans, const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst)
{
    if (rows != MLP_MR) {
        mlp_pack_a_generic(trans, a, lda, rows, kc, dst);
        return;
    }
    int64_t p = 0;
    if (!trans) {
        /* 6 rows x 8 columns -> 8 groups of 6: transpose with two zero rows, store 6 lanes of each. */
        for (; p + 8 <= kc; p += 8, dst += 8 * MLP_MR) {
            __m256 r0 = _mm256_loadu_ps(a + p), r1 = _mm256_loadu_ps(a + lda + p);
            __m256 r2 = _mm256_loadu_ps(a + 2 * lda + p), r3 = _mm256_loadu_ps(a + 3 * lda + p);
            __m256 r4 = _mm256_loadu_ps(a + 4 * lda + p), r5 = _mm256_loadu_ps(a + 5 * lda + p);
            __m256 r6 = _mm256_setzero_ps(), r7 = _mm256_setzero_ps();
            TRANSPOSE_8X8(r0, r1, r2, r3, r4, r5, r6, r7);
            /* in increasing order, the 2 surplus lanes of each store are overwritten by the next one */
            _mm256_storeu_ps(dst + 0 * MLP_MR, r0);
            _mm256_storeu_ps(dst + 1 * MLP_MR, r1);
            _mm256_storeu_ps(dst + 2 * MLP_MR, r2);
            _mm256_storeu_ps(dst + 3 * MLP_MR, r3);
            _mm256_storeu_ps(dst + 4 * MLP_MR, r4);
            _mm256_storeu_ps(dst + 5 * MLP_MR, r5);
            _mm256_storeu_ps(dst + 6 * MLP_MR, r6);
            /* the last one must not spill past the group: 4 + 2 floats */
            _mm_storeu_ps(dst + 7 * MLP_MR, _mm256_castps256_ps128(r7));
            _mm_storel_pi((__m64 *)(dst + 7 * MLP_MR + 4), _mm256_extractf128_ps(r7, 1));
        }
        for (; p < kc; ++p, dst += MLP_MR)
            for (int r = 0; r < MLP_MR; ++r) dst[r] = a[r * lda + p];
        return;
    }
    for (; p < kc; ++p, dst += MLP_MR) { /* 4 + 2 floats (masked stores are slow on AMD) */
        const float *src = a + p * lda;
        _mm_storeu_ps(dst, _mm_loadu_ps(src));
        _mm_storel_pi((__m64 *)(dst + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(src + 4)));
    }
}

/* dst[p * 16 + r] = src[r * ld + p] for 16 rows and p < kc: two 8 x 8 transposes per 8 values of p. Serves the
 * transposed B panels (NR = 16 columns of op(B)) and the thin kernel's row groups (MLP_THIN_M = 16). */
static void pack_16_rows_transposed(const float *src, int64_t ld, int64_t kc, float *dst)
{
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8, dst += 8 * 16)
        for (int64_t half = 0; half < 2; ++half) {
            const float *s = src + half * 8 * ld + p;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld), r2 = _mm256_loadu_ps(s + 2 * ld);
            __m256 r3 = _mm256_loadu_ps(s + 3 * ld), r4 = _mm256_loadu_ps(s + 4 * ld), r5 = _mm256_loadu_ps(s + 5 * ld);
            __m256 r6 = _mm256_loadu_ps(s + 6 * ld), r7 = _mm256_loadu_ps(s + 7 * ld);
            TRANSPOSE_8X8(r0, r1, r2, r3, r4, r5, r6, r7);
            float *d = dst + half * 8;
            _mm256_store_ps(d, r0), _mm256_store_ps(d + 16, r1), _mm256_store_ps(d + 32, r2), _mm256_store_ps(d + 48, r3);
            _mm256_store_ps(d + 64, r4), _mm256_store_ps(d + 80, r5), _mm256_store_ps(d + 96, r6), _mm256_store_ps(d + 112, r7);
        }
    for (; p < kc; ++p, dst += 16)
        for (int64_t r = 0; r < 16; ++r) dst[r] = src[r * ld + p];
}

_Static_assert(MLP_NR == 16 && MLP_THIN_M == 16, "pack_16_rows_transposed serves B panels and thin row groups");

void mlp_pack_rows_thin_avx2(const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst)
{
    if (rows == MLP_THIN_M) {
        pack_16_rows_transposed(a, lda, kc, dst);
        return;
    }
    for (int64_t p = 0; p < kc; ++p, dst += MLP_THIN_M)
        for (int64_t r = 0; r < MLP_THIN_M; ++r) dst[r] = r < rows ? a[r * lda + p] : 0.0f;
}

void mlp_pack_b_avx2(int32_t trans, const float *b, int64_t ldb, int64_t cols, int64_t kc, float *dst)
{
    int64_t p = 0;
    if (!trans && cols != MLP_NR) { /* edge panel: masked loads read zeros past the last column */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), lane);
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols - 8), lane);
        for (; p < kc; ++p, dst += MLP_NR) {
            const float *src = b + p * ldb;
            _mm256_store_ps(dst, _mm256_maskload_ps(src, m0));
            _mm256_store_ps(dst + 8, _mm256_maskload_ps(src + 8, m1));
        }
        return;
    }
    if (cols != MLP_NR) {
        mlp_pack_b_generic(trans, b, ldb, cols, kc, dst);
        return;
    }
    if (!trans) {
        for (; p < kc; ++p, dst += MLP_NR) {
            const float *src = b + p * ldb;
            _mm256_store_ps(dst, _mm256_loadu_ps(src));
            _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
        }
        return;
    }
    pack_16_rows_transposed(b, ldb, kc, dst); /* the 16 rows of b are the columns of op(B) */
}
