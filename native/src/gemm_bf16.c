/* The bfloat16 GEMM driver: the team packs op(A) into 16-row and op(B) into 16-column panels of bf16 pairs (the
 * whole K at once: the training shapes' panels fit L1/L2), then each thread computes whole 8 x 48 tiles of its rows
 * and applies the epilogue to them. */
#include "gemm_bf16.h"

#include <string.h>

#include "mlnetmlp.h"
#include "threads.h"

static int64_t panels_of(int64_t x) { return (x + MLP_BF16_PANEL - 1) / MLP_BF16_PANEL; }

int64_t mlp_gemm_bf16_workspace_floats(int64_t m, int64_t n, int64_t k)
{
    const int64_t q = (k + 1) / 2;
    return (panels_of(m) + panels_of(n)) * MLP_BF16_PANEL * q + 16;
}

#if defined(MLP_HAVE_AVX512_KERNELS)

/* Stored row r of A (by index when the problem gives a_rows). */
static const float *a_stored(const mlp_gemm_problem *g, int64_t r)
{
    return g->a + (g->a_rows ? (int64_t)g->a_rows[r] : r) * g->lda;
}

/* Pairs are packed PAIR_BLOCK columns (4 panels) at a time, all K pairs of those panels before the next ones: the
 * writes then go to 4 sequential streams. (All panels per K pair wrote lines a panel apart, often 4 KiB: one L1 set.) */
#define PAIR_BLOCK (4 * MLP_BF16_PANEL)

/* Panels [p0, p1) of op(A) = Aᵀ (rows 16 p0 .. 16 p1 of op(A)), pairs along K. */
static void pack_a_panels(const mlp_gemm_problem *g, int64_t p0, int64_t p1, int64_t q_count, uint32_t *pa)
{
    const int64_t panel_words = q_count * MLP_BF16_PANEL, r0 = p0 * MLP_BF16_PANEL;
    const int64_t r1 = p1 * MLP_BF16_PANEL < g->m ? p1 * MLP_BF16_PANEL : g->m;
    if (r1 < p1 * MLP_BF16_PANEL) /* a partial last panel: its missing rows stay 0 */
        memset(pa + (p1 - 1) * panel_words, 0, (size_t)panel_words * sizeof *pa);
    for (int64_t c = r0; c < r1; c += PAIR_BLOCK) /* op(A)(r, p) = stored row p, column r */
        for (int64_t q = 0; q < q_count; ++q) {
            const float *rows[2] = {a_stored(g, 2 * q) + c, 2 * q + 1 < g->k ? a_stored(g, 2 * q + 1) + c : NULL};
            mlp_bf16_pack_pairs_avx512(rows, r1 - c < PAIR_BLOCK ? r1 - c : PAIR_BLOCK,
                                       pa + (c / MLP_BF16_PANEL) * panel_words + q * MLP_BF16_PANEL, panel_words);
        }
}

/* Rows [r0, r1) of op(A) = A as stored (r0 even), each converted into its own row of pairs (by the thread that
 * multiplies them); with transposed, also packed as Aᵀ's panels for a later GEMM whose op(A) is this Aᵀ (K = m:
 * pairs of these rows), while the rows are in cache. fetch_ahead: the rows by index two ahead are prefetched. */
static void convert_a_rows(const mlp_gemm_problem *g, int64_t r0, int64_t r1, int64_t q_count, uint32_t *pa,
                           uint32_t *transposed, int fetch_ahead)
{
    for (int64_t r = r0; r < r1; ++r) {
        if (fetch_ahead && g->a_rows && r + 2 < r1) /* rows by index come from anywhere in the data set */
            for (int64_t p = 0; p < g->k; p += 16) __builtin_prefetch(a_stored(g, r + 2) + p);
        mlp_bf16_row_pairs_avx512(a_stored(g, r), g->k, pa + r * q_count);
    }
    if (!transposed)
        return;
    const int64_t t_words = (g->m + 1) / 2 * MLP_BF16_PANEL; /* Aᵀ's panel stride: its K is m */
    for (int64_t c = 0; c < g->k; c += PAIR_BLOCK) /* (4 panels at a time, as pack_a_panels) */
        for (int64_t r = r0; r < r1; r += 2) {
            const float *rows[2] = {a_stored(g, r) + c, r + 1 < r1 ? a_stored(g, r + 1) + c : NULL};
            mlp_bf16_pack_pairs_avx512(rows, g->k - c < PAIR_BLOCK ? g->k - c : PAIR_BLOCK,
                                       transposed + (c / MLP_BF16_PANEL) * t_words + r / 2 * MLP_BF16_PANEL, t_words);
        }
}

/* Panels [p0, p1) of op(B) (columns 16 p0 .. 16 p1 of op(B)), pairs along K. */
static void pack_b_panels(const mlp_gemm_problem *g, int64_t p0, int64_t p1, int64_t q_count, uint32_t *pb)
{
    const int64_t panel_words = q_count * MLP_BF16_PANEL, c0 = p0 * MLP_BF16_PANEL;
    const int64_t c1 = p1 * MLP_BF16_PANEL < g->n ? p1 * MLP_BF16_PANEL : g->n;
    if (g->trans_b) { /* op(B)(p, c) = b[c * ldb + p]: pairs adjacent along B's rows */
        for (int64_t j = p0; j < p1; ++j) {
            const float *rows[MLP_BF16_PANEL];
            const int64_t first = j * MLP_BF16_PANEL, count = g->n - first < MLP_BF16_PANEL ? g->n - first : MLP_BF16_PANEL;
            for (int64_t c = 0; c < count; ++c) rows[c] = g->b + (first + c) * g->ldb;
            mlp_bf16_pack_rows_avx512(rows, count, g->k, pb + j * panel_words);
        }
        return;
    }
    if (c1 < p1 * MLP_BF16_PANEL)
        memset(pb + (p1 - 1) * panel_words, 0, (size_t)panel_words * sizeof *pb);
    for (int64_t c = c0; c < c1; c += PAIR_BLOCK)
        for (int64_t q = 0; q < q_count; ++q) {
            const float *rows[2] = {g->b + 2 * q * g->ldb + c, 2 * q + 1 < g->k ? g->b + (2 * q + 1) * g->ldb + c : NULL};
            mlp_bf16_pack_pairs_avx512(rows, c1 - c < PAIR_BLOCK ? c1 - c : PAIR_BLOCK,
                                       pb + (c / MLP_BF16_PANEL) * panel_words + q * MLP_BF16_PANEL, panel_words);
        }
}

enum { TILE_ROWS = 8, TILE_COLS = 48 };

/* The next tile's width with `left` columns to go: 48, except that 64 left become 32 + 32 (a 16-column tile, one
 * accumulator per row, runs at ~60% of the others' speed). Each element's sum is the same whatever the width. */
static int64_t tile_columns(int64_t left)
{
    return left == 64 ? 32 : left < TILE_COLS ? left : TILE_COLS;
}

/* The team GEMM (see mlp_bf16_operands). A as stored is converted tile by tile by the thread that multiplies it
 * (no barrier for it), the next tile's rows by index fetched meanwhile by the tile kernel; Aᵀ is packed by the team
 * into 16-row panels. */
static void gemm_bf16(const mlp_kernels *kernels, const mlp_gemm_problem *g, const mlp_bf16_operands *ops,
                      float *workspace, int thread, int team)
{
    if (g->m == 0 || g->n == 0 || g->k == 0 || g->alpha == 0.0f) { /* nothing to multiply: the float32 driver scales */
        mlp_gemm_team(kernels, g, workspace, thread, team);
        return;
    }
    const int64_t q_count = (g->k + 1) / 2, panel_words = q_count * MLP_BF16_PANEL;
    const int64_t a_panels = panels_of(g->m), b_panels = panels_of(g->n);
    const uint32_t *packed_a = g->trans_a ? ops->packed_a : NULL, *packed_b = ops->packed_b;
    uint32_t *transposed = g->trans_a ? NULL : ops->a_transposed;
    uint32_t *pa = (uint32_t *)workspace;
    const uint32_t *pb = packed_b ? packed_b : pa + a_panels * panel_words;
    const uint32_t *panels_a = packed_a ? packed_a : pa;
    int64_t lo, hi;
    if (g->trans_a && !packed_a) {
        mlp_share(a_panels, 1, thread, team, &lo, &hi);
        if (hi > lo) pack_a_panels(g, lo, hi, q_count, pa);
    }
    if (!packed_b) {
        mlp_share(b_panels, 1, thread, team, &lo, &hi);
        if (hi > lo) pack_b_panels(g, lo, hi, q_count, pa + a_panels * panel_words);
    }
    if ((g->trans_a && !packed_a) || !packed_b)
        mlp_barrier(team);

    const int64_t row_tiles = (g->m + TILE_ROWS - 1) / TILE_ROWS;
    mlp_share(row_tiles, 1, thread, team, &lo, &hi);
    for (int64_t t = lo; t < hi; ++t) {
        const int64_t r0 = t * TILE_ROWS, mr = g->m - r0 < TILE_ROWS ? g->m - r0 : TILE_ROWS;
        if (!g->trans_a && (t == lo || !g->a_rows)) /* (later tiles' rows by index: see the next tile's below) */
            convert_a_rows(g, r0, r0 + mr, q_count, pa, transposed, 1);
        /* the next tile's rows by index, fetched while this tile's first columns are computed */
        const float *next[TILE_ROWS];
        const int fetch_next = !g->trans_a && g->a_rows && t + 1 < hi;
        for (int64_t r = 0; fetch_next && r < TILE_ROWS; ++r) {
            const int64_t row = r0 + TILE_ROWS + r;
            next[r] = a_stored(g, row < g->m ? row : r0 + TILE_ROWS);
        }
        /* op(A)'s rows: converted rows of pairs (A as stored), or a 16-row panel (A transposed) */
        const uint32_t *a_rows[TILE_ROWS];
        const int64_t a_stride = g->trans_a ? MLP_BF16_PANEL : 1;
        for (int64_t r = 0; r < TILE_ROWS; ++r) {
            const int64_t row = r0 + (r < mr ? r : 0);
            a_rows[r] = g->trans_a ? panels_a + (row / MLP_BF16_PANEL) * panel_words + row % MLP_BF16_PANEL
                                   : pa + row * q_count;
        }
        for (int64_t c0 = 0, nc; c0 < g->n; c0 += nc) {
            nc = tile_columns(g->n - c0);
            mlp_bf16_tile_avx512(q_count, a_rows, a_stride, pb + (c0 / MLP_BF16_PANEL) * panel_words, panel_words,
                                 g->c + r0 * g->ldc + c0, g->ldc, g->alpha, g->beta, mr, nc,
                                 fetch_next && c0 == 0 ? next : NULL);
        }
        if (fetch_next) { /* already in cache (the tile fetched them): converted for the next tile */
            const int64_t r1 = r0 + 2 * TILE_ROWS < g->m ? r0 + 2 * TILE_ROWS : g->m;
            convert_a_rows(g, r0 + TILE_ROWS, r1, q_count, pa, transposed, 0);
        }
        if (g->bias || g->activation != MLP_ACT_IDENTITY)
            for (int64_t r = r0; r < r0 + mr; ++r) kernels->bias_activation(g->activation, g->n, g->bias, g->c + r * g->ldc);
    }
    mlp_barrier(team);
}

void mlp_gemm_bf16_team(const mlp_kernels *kernels, const mlp_gemm_problem *g, float *workspace, int thread, int team)
{
    const mlp_bf16_operands none = {NULL, NULL, NULL};
    gemm_bf16(kernels, g, &none, workspace, thread, team);
}

void mlp_gemm_bf16_team_with(const mlp_kernels *kernels, const mlp_gemm_problem *g, const mlp_bf16_operands *operands,
                             float *workspace, int thread, int team)
{
    gemm_bf16(kernels, g, operands, workspace, thread, team);
}

void mlp_gemm_bf16_team_packed_b(const mlp_kernels *kernels, const mlp_gemm_problem *g, const uint32_t *packed_b,
                                 float *workspace, int thread, int team)
{
    const mlp_bf16_operands ops = {NULL, packed_b, NULL};
    gemm_bf16(kernels, g, &ops, workspace, thread, team);
}

void mlp_bf16_pack_b(const mlp_gemm_problem *g, uint32_t *packed_b)
{
    pack_b_panels(g, 0, panels_of(g->n), (g->k + 1) / 2, packed_b);
}

void mlp_bf16_pack_b_pairs(const float *b, int64_t ldb, int64_t n, int64_t k, int64_t q0, int64_t q1, uint32_t *packed)
{
    const int64_t panel_words = (k + 1) / 2 * MLP_BF16_PANEL;
    for (int64_t q = q0; q < q1; ++q) {
        const float *rows[2] = {b + 2 * q * ldb, 2 * q + 1 < k ? b + (2 * q + 1) * ldb : NULL};
        mlp_bf16_pack_pairs_avx512(rows, n, packed + q * MLP_BF16_PANEL, panel_words);
    }
}

#else /* no AVX-512 kernels in this build: mlp_bf16_available() is 0, so this is never called */

void mlp_gemm_bf16_team(const mlp_kernels *kernels, const mlp_gemm_problem *g, float *workspace, int thread, int team)
{
    mlp_gemm_team(kernels, g, workspace, thread, team);
}

void mlp_gemm_bf16_team_packed_b(const mlp_kernels *kernels, const mlp_gemm_problem *g, const uint32_t *packed_b,
                                 float *workspace, int thread, int team)
{
    (void)packed_b;
    mlp_gemm_team(kernels, g, workspace, thread, team);
}

void mlp_gemm_bf16_team_with(const mlp_kernels *kernels, const mlp_gemm_problem *g, const mlp_bf16_operands *operands,
                             float *workspace, int thread, int team)
{
    (void)operands;
    mlp_gemm_team(kernels, g, workspace, thread, team);
}

void mlp_bf16_pack_b(const mlp_gemm_problem *g, uint32_t *packed_b)
{
    (void)g;
    (void)packed_b;
}

void mlp_bf16_pack_b_pairs(const float *b, int64_t ldb, int64_t n, int64_t k, int64_t q0, int64_t q1, uint32_t *packed)
{
    (void)b, (void)ldb, (void)n, (void)k, (void)q0, (void)q1, (void)packed;
}

#endif
