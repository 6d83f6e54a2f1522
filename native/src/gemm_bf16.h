/* The bfloat16 GEMM (training's Precision = BFloat16): op(A) and op(B) rounded to bfloat16 (to nearest even) while
 * packed, products accumulated in float32 by vdpbf16ps, C and the epilogue in float32. AVX512_BF16 only. */
#ifndef MLP_GEMM_BF16_H
#define MLP_GEMM_BF16_H

#include <stdint.h>

#include "gemm.h"

/* Packed operands are panels of 16 rows of op(A) or 16 columns of op(B): panel[q * 16 + i] holds the bf16 pair of
 * K steps 2q and 2q + 1 of row (column) i. */
#define MLP_BF16_PANEL 16

/* Whether this CPU runs the bfloat16 kernels (AVX512_BF16 and the OS's ZMM state). */
int mlp_bf16_available(void);

/* Floats (32-bit words) of workspace the bfloat16 GEMM of this shape needs. */
int64_t mlp_gemm_bf16_workspace_floats(int64_t m, int64_t n, int64_t k);

/* The problem (mlp_gemm_problem, epilogue and row indices included) in bfloat16 from inside an mlp_parallel task:
 * every thread of the team calls it; each element of C is computed by one thread with the same arithmetic whatever
 * the team, so results do not depend on it. Only when mlp_bf16_available(). */
void mlp_gemm_bf16_team(const mlp_kernels *kernels, const mlp_gemm_problem *problem, float *workspace, int thread, int team);

/* ---- the ISA file's kernels (kernels_avx512bf16.c) ---- */
/* The pairs (rows[0][j], rows[1][j]) for j < n (rows[1] NULL: 0 in the high half), 16 at a time: those of
 * j in [16 c, 16 c + 16) at dst + c * chunk_stride. */
void mlp_bf16_pack_pairs_avx512(const float *const rows[2], int64_t n, uint32_t *dst, int64_t chunk_stride);
/* One 16-row panel from `count` rows of length k (pairs along each row): dst[q * 16 + r]; rows past count are 0. */
void mlp_bf16_pack_rows_avx512(const float *const *rows, int64_t count, int64_t k, uint32_t *dst);
/* c[r, j] = alpha * sum_q dot(a_rows[r][q * a_stride], b panel j / 16 at q) (+ beta * c) for r < mr <= 8,
 * j < nc <= 48 (rows past mr may point anywhere readable); B panels panel_stride words apart. A is a 16-row panel
 * (a_rows[r] = panel + r, a_stride 16) or rows of contiguous pairs (a_stride 1). prefetch (or NULL): 8 float rows
 * of 2 q_count floats to fetch into cache meanwhile, one line per K pair (the next tile's rows by index). */
void mlp_bf16_tile_avx512(int64_t q_count, const uint32_t *const a_rows[8], int64_t a_stride, const uint32_t *b,
                          int64_t panel_stride, float *c, int64_t ldc, float alpha, float beta, int64_t mr, int64_t nc,
                          const float *const *prefetch);

/* x's pairs along K, contiguous: dst[q] = (x[2q], x[2q + 1]) (0 past k). */
void mlp_bf16_row_pairs_avx512(const float *x, int64_t k, uint32_t *dst);
/* out[j] = sum_q dot(x[q], panel j / 16 at q) for j < n, with the tile's arithmetic (so a row scores the same alone
 * as in a batch). */
void mlp_bf16_gemv_avx512(int64_t q_count, const uint32_t *x, const uint32_t *panels, int64_t panel_words, int64_t n,
                          float *out);

/* The team GEMM with op(B) already packed (panels of 16 columns, q_count * 16 words apart), e.g. a network's
 * bfloat16 scoring weights: only A is packed (into the workspace). */
void mlp_gemm_bf16_team_packed_b(const mlp_kernels *kernels, const mlp_gemm_problem *problem, const uint32_t *packed_b,
                                 float *workspace, int thread, int team);
/* K pairs [q0, q1) of a B used as stored (k x n, row stride ldb) into panels laid out as mlp_bf16_pack_b's (the
 * words of the other pairs untouched; the panels' padding columns must already be 0): a trainer refreshes its copy
 * of a layer's weights two rows at a time, right after it updated them. */
void mlp_bf16_pack_b_pairs(const float *b, int64_t ldb, int64_t n, int64_t k, int64_t q0, int64_t q1, uint32_t *packed);
/* Operands of mlp_gemm_bf16_team_with, each optional (NULL): packed_a, op(A) = Aᵀ already packed (16-row panels of
 * pairs along K: what a_transposed of an earlier GEMM wrote; ignored when A is used as stored); packed_b, op(B) already
 * packed; a_transposed, for A used as stored: also write Aᵀ's panels there (pairs of op(A)'s rows, panel stride
 * (m + 1) / 2 * 16 words, panels_of(k) of them; their padding words are left as they are, 0 from the caller), for a
 * later GEMM that multiplies by this Aᵀ, packed while the rows are in cache. */
typedef struct mlp_bf16_operands {
    const uint32_t *packed_a;
    const uint32_t *packed_b;
    uint32_t *a_transposed;
} mlp_bf16_operands;
void mlp_gemm_bf16_team_with(const mlp_kernels *kernels, const mlp_gemm_problem *problem, const mlp_bf16_operands *operands,
                             float *workspace, int thread, int team);

/* Packs op(B) of the problem (its B, trans_b and n, k) into panels (mlp_gemm_bf16_workspace_floats(0, n, k) words),
 * on the calling thread. */
void mlp_bf16_pack_b(const mlp_gemm_problem *problem, uint32_t *packed_b);

#endif
