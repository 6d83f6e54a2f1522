/* Library-level exports: version, and the argument-checking front of mlp_sgemm. */
#include <stdio.h>

#include "errors.h"
#include "gemm.h"
#include "gemm_bf16.h"
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

/* The arguments of mlp_sgemm and mlp_sgemm_bf16. */
static int32_t check_sgemm(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                           const float *b, int64_t ldb, const float *c, int64_t ldc)
{
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
    return MLP_OK;
}

typedef struct bf16_task {
    const mlp_gemm_problem *problem;
    float *workspace;
} bf16_task;

static void bf16_task_run(void *ctx, int thread, int team)
{
    const bf16_task *t = ctx;
    mlp_gemm_bf16_team(mlp_kernels_get(), t->problem, t->workspace, thread, team);
}

/* mlp_sgemm, or mlp_sgemm_bf16 with bf16 set: checks, a workspace for the call, the GEMM on the library's threads. */
static int32_t sgemm(int bf16, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    mlp_clear_error();
    if (bf16 && !mlp_bf16_available())
        return mlp_fail(MLP_ERR_UNSUPPORTED, "this CPU has no AVX512_BF16 (or MLNETMLP_ISA caps the kernels below AVX-512): "
                                             "use mlp_sgemm");
    const int32_t status = check_sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    if (status != MLP_OK || m == 0 || n == 0)
        return status;
    const mlp_gemm_problem problem = {trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL,
                                      MLP_ACT_IDENTITY, NULL};
    const int threads = mlp_gemm_threads(&problem, mlp_threads_resolve(0));
    int64_t floats = mlp_gemm_workspace_floats(m, n, k, threads);
    if (bf16 && mlp_gemm_bf16_workspace_floats(m, n, k) > floats) floats = mlp_gemm_bf16_workspace_floats(m, n, k);
    float *ws = mlp_alloc_floats(floats);
    if (!ws)
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating the GEMM workspace");
    if (bf16) {
        bf16_task task = {&problem, ws};
        mlp_parallel(threads, bf16_task_run, &task);
    } else {
        mlp_gemm(mlp_kernels_get(), &problem, threads, ws);
    }
    mlp_free(ws);
    return MLP_OK;
}

MLP_API int32_t mlp_sgemm(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc)
{
    return sgemm(0, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

MLP_API int32_t mlp_sgemm_bf16(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                               const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                               int64_t ldc)
{
    return sgemm(1, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
