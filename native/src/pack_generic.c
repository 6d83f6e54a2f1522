/* Portable packing of GEMM operands into micro-panels (see kernels.h for the layout). */
#include <string.h>

#include "kernels.h"

void mlp_pack_a_generic(int32_t trans, const float *restrict a, int64_t lda, int64_t rows, int64_t kc, float *restrict dst)
{
    if (rows == MLP_MR && !trans) {
        const float *r0 = a, *r1 = a + lda, *r2 = a + 2 * lda, *r3 = a + 3 * lda, *r4 = a + 4 * lda, *r5 = a + 5 * lda;
        for (int64_t p = 0; p < kc; ++p, dst += MLP_MR) {
            dst[0] = r0[p], dst[1] = r1[p], dst[2] = r2[p];
            dst[3] = r3[p], dst[4] = r4[p], dst[5] = r5[p];
        }
        return;
    }
    for (int64_t p = 0; p < kc; ++p, dst += MLP_MR) {
        int64_t r = 0;
        if (trans)
            for (; r < rows; ++r) dst[r] = a[p * lda + r];
        else
            for (; r < rows; ++r) dst[r] = a[r * lda + p];
        for (; r < MLP_MR; ++r) dst[r] = 0.0f;
    }
}

void mlp_pack_b_generic(int32_t trans, const float *restrict b, int64_t ldb, int64_t cols, int64_t kc, float *restrict dst)
{
    if (!trans) {
        for (int64_t p = 0; p < kc; ++p, dst += MLP_NR) {
            const float *src = b + p * ldb;
            if (cols == MLP_NR) {
                for (int j = 0; j < MLP_NR; ++j) dst[j] = src[j];
            } else {
                int64_t j = 0;
                for (; j < cols; ++j) dst[j] = src[j];
                for (; j < MLP_NR; ++j) dst[j] = 0.0f;
            }
        }
        return;
    }
    for (int64_t j = 0; j < cols; ++j) {
        const float *src = b + j * ldb;
        for (int64_t p = 0; p < kc; ++p) dst[p * MLP_NR + j] = src[p];
    }
    for (int64_t p = 0; p < kc; ++p)
        for (int64_t j = cols; j < MLP_NR; ++j) dst[p * MLP_NR + j] = 0.0f;
}
