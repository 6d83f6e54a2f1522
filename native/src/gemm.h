/* The blocked, packed SGEMM driver (BLIS structure: jc / pc / ic / jr / ir loops around one
 * register-blocked micro-kernel per ISA) with an optional bias + activation epilogue. */
#ifndef MLP_GEMM_H
#define MLP_GEMM_H

#include <stdint.h>

#include "kernels.h"

/* Cache blocking for 32 KiB L1d / 1 MiB L2: a KC x NR panel of B (at most 24 KiB) stays in L1,
 * an MC x KC block of A (at most 216 KiB) in L2, a KC x NC block of B in L3. KC is the upper bound of
 * the K block; gemm.c balances the blocks of each problem. */
#ifndef MLP_KC
#  define MLP_KC 384
#endif
#define MLP_MC 144
#define MLP_NC 4080

typedef struct mlp_gemm_problem {
    int32_t trans_a, trans_b;
    int64_t m, n, k;
    float alpha;
    const float *a;
    int64_t lda;
    const float *b;
    int64_t ldb;
    float beta;
    float *c;
    int64_t ldc;
    /* Epilogue applied once the full sum is in C: c[i, j] = act(c[i, j] + bias[j]). */
    const float *bias;  /* may be NULL */
    int32_t activation; /* enum mlp_activation; MLP_ACT_IDENTITY for none */
    /* NULL, or the stored rows of A by index: stored row r is at a + a_rows[r] * lda (the minibatch's rows of a
     * dataset, without copying them out). Only for problems that mlp_gemm_takes_row_indices accepts. */
    const int32_t *a_rows;
} mlp_gemm_problem;

/* How many threads this problem can use well: 1 when small, else up to max_threads and the number of
 * micro-panels. */
int mlp_gemm_threads(const mlp_gemm_problem *problem, int max_threads);

/* Whether the problem's path can read A's stored rows by index (a_rows): the wide tiles reading A in place (the
 * AVX-512 set, small operands; see gemm.c). */
int mlp_gemm_takes_row_indices(const mlp_kernels *kernels, const mlp_gemm_problem *problem);

/* Floats of workspace the driver needs for this shape on up to `threads` threads (with alignment slack). */
int64_t mlp_gemm_workspace_floats(int64_t m, int64_t n, int64_t k, int threads);

/* Computes the problem on up to num_threads threads. workspace holds
 * mlp_gemm_workspace_floats(m, n, k, num_threads) floats. Arguments are trusted: validate before calling.
 * The result is bit-identical for every thread count. */
void mlp_gemm(const mlp_kernels *kernels, const mlp_gemm_problem *problem, int num_threads, float *workspace);

/* The same from inside an mlp_parallel task: every thread of the team calls it with the same problem; the
 * team shares the work (or thread 0 does it alone when the problem is small) and waits for the result. */
void mlp_gemm_team(const mlp_kernels *kernels, const mlp_gemm_problem *problem, float *workspace, int thread, int team);

#endif
