/* Library-level exports: version, and the argument-checking front of mlp_sgemm. */
#include <stdio.h>

#include "errors.h"
#include "gemm.h"
#include "memory.h"
#include "mlnetmlp.h"
#include "threads.h"

MLP_API int32_t mlp_abi_version(void) { return MLP_ABI_VERSION; }

/* A stored rows x cols matrix with leading dimension ld: sizes sane, ld large enough, extent in range. */
static int32_t check_matrix(const char *name, const void *p, int64_t rows, int64_t cols, int64_t ld)
{
    const int64_t min_ld = cols > 1 ? cols : 1;
    MLP_CHECK(ld >= min_ld, "leading dimension of %s is %lld but must be at least %lld (its stored row length)",
              name, (long long)ld, (long long)min_ld);
    if (rows == 0 || cols == 0)
        return MLP_OK;
    MLP_CHECK(p != NULL, "%s must not be NULL for a %lld x %lld operand", name, (long long)rows, (long long)cols);
    int64_t extent;
    MLP_CHECK(mlp_mul_ok(rows, ld, &extent) && extent <= INT64_MAX / (int64_t)sizeof(float),
              "%s of %lld rows with leading dimension %lld exceeds the address space", name, (long long)rows,
              (long long)ld);
    return MLP_OK;
}

MLP_API int32_t mlp_sgemm(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc)
{
    mlp_clear_error();
    MLP_CHECK(trans_a == 0 || trans_a == 1, "trans_a must be 0 (none) or 1 (transpose), got %d", (int)trans_a);
    MLP_CHECK(trans_b == 0 || trans_b == 1, "trans_b must be 0 (none) or 1 (transpose), got %d", (int)trans_b);
    MLP_CHECK(m >= 0 && n >= 0 && k >= 0, "matrix sizes must not be negative (m=%lld, n=%lld, k=%lld)",
              (long long)m, (long long)n, (long long)k);
    int32_t status;
    const int64_t a_rows = m > 0 ? (trans_a ? k : m) : 0, a_cols = trans_a ? m : k;
    const int64_t b_rows = n > 0 ? (trans_b ? n : k) : 0, b_cols = trans_b ? k : n;
    if ((status = check_matrix("A", a, a_rows, a_cols, lda)) != MLP_OK) return status;
    if ((status = check_matrix("B", b, b_rows, b_cols, ldb)) != MLP_OK) return status;
    if ((status = check_matrix("C", c, m, n, ldc)) != MLP_OK) return status;
    if (m == 0 || n == 0)
        return MLP_OK;

    const mlp_gemm_problem problem = {trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL,
                                      MLP_ACT_IDENTITY, NULL};
    const int threads = mlp_gemm_threads(&problem, mlp_threads_resolve(0));
    float *ws = mlp_alloc_floats(mlp_gemm_workspace_floats(m, n, k, threads));
    if (!ws)
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating the GEMM workspace");
    mlp_gemm(mlp_kernels_get(), &problem, threads, ws);
    mlp_free(ws);
    return MLP_OK;
}
