#include "gemm.h"

#include <stdint.h>
#include <string.h>

#include "mlnetmlp.h"
#include "threads.h"

#define ALIGN_FLOATS 16 /* 64 bytes */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

static float *align_up(float *p)
{
    uintptr_t u = (uintptr_t)p;
    return (float *)((u + 63u) & ~(uintptr_t)63u);
}

/* The K block: at most MLP_KC, and the blocks of one problem as equal as possible (784 -> 2 x 392, not
 * 3 x 256 + 16), so that no pass over C does a sliver of work. A function of k alone: every path and every
 * thread count splits the same way, which keeps results identical. */
_Static_assert(MLP_KC % 8 == 0, "K blocks are rounded up to multiples of 8 and must stay within MLP_KC");
static int64_t k_block(int64_t k)
{
    const int64_t blocks = (k + MLP_KC - 1) / MLP_KC;
    const int64_t kc = blocks > 0 ? round_up((k + blocks - 1) / blocks, 8) : 0;
    return kc < k ? kc : k;
}

static int64_t pack_a_floats(int64_t m, int64_t k) { return min64(MLP_MC, round_up(m, MLP_MR)) * k_block(k); }
static int64_t pack_b_floats(int64_t n, int64_t k) { return min64(MLP_NC, round_up(n, MLP_NR)) * k_block(k); }

/* The workspace of the blocked path: max(team, 2) packed-A blocks (one private block per thread, or two
 * shared ones used in turn), two packed-B blocks used in turn, then each thread's transposed rows for
 * the thin kernel. Every part starts on a 64-byte boundary. */
typedef struct gemm_buffers {
    float *a_blocks, *b_blocks, *thin_rows;
    int64_t a_stride, b_stride, thin_rows_stride;
} gemm_buffers;

/* Packed-A blocks are needed unless B is a single panel (the thin and unpacked-A paths read A in place). */
static int64_t a_block_count(int64_t n, int team) { return n <= MLP_NR ? 0 : team > 2 ? team : 2; }

static gemm_buffers buffers_for(const mlp_gemm_problem *g, float *workspace, int team)
{
    gemm_buffers w;
    w.a_stride = round_up(pack_a_floats(g->m, g->k), ALIGN_FLOATS);
    w.b_stride = round_up(pack_b_floats(g->n, g->k), ALIGN_FLOATS);
    w.thin_rows_stride = round_up(MLP_THIN_M * k_block(g->k), ALIGN_FLOATS);
    w.a_blocks = align_up(workspace);
    w.b_blocks = w.a_blocks + a_block_count(g->n, team) * w.a_stride;
    w.thin_rows = w.b_blocks + 2 * w.b_stride;
    return w;
}

int64_t mlp_gemm_workspace_floats(int64_t m, int64_t n, int64_t k, int threads)
{
    const int64_t a = round_up(pack_a_floats(m, k), ALIGN_FLOATS), b = round_up(pack_b_floats(n, k), ALIGN_FLOATS);
    const int64_t blocked = ALIGN_FLOATS + a_block_count(n, threads) * a + 2 * b +
                            (int64_t)threads * round_up(MLP_THIN_M * k_block(k), ALIGN_FLOATS);
    const int64_t few_rows = (int64_t)threads * (n + ALIGN_FLOATS) + ALIGN_FLOATS; /* an accumulator row each */
    return blocked > few_rows ? blocked : few_rows;
}

/* ---- packing ---------------------------------------------------------------------------- */

/* Stored row r of A (through the row indices when there are some). */
static const float *a_stored_row(const mlp_gemm_problem *g, int64_t r)
{
    return g->a + (g->a_rows ? (int64_t)g->a_rows[r] : r) * g->lda;
}

/* op(A)[i0 .. i0+mc, p0 .. p0+kc) into MR-row micro-panels, op(B)[p0 .. p0+kc, j0 .. j0+nc) into NR-column
 * micro-panels, zero-padded at the edges (the per-panel work is the ISA's). */
static void pack_a_panel(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t mc, int64_t p0,
                         int64_t kc, int64_t ir, float *pa)
{
    const int64_t i = i0 + ir; /* (never with row indices: mlp_gemm_takes_row_indices reads A in place) */
    const float *src = g->trans_a ? g->a + p0 * g->lda + i : g->a + i * g->lda + p0;
    kern->pack_a(g->trans_a, src, g->lda, min64(MLP_MR, mc - ir), kc, pa + ir * kc);
}

/* B panels sit k_block(k) x NR floats apart whatever the block's kc, so that a thread repacking its own
 * panels for the next (shorter) K block never writes into another thread's panels. */
static void pack_b_panel(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t p0, int64_t kc, int64_t j0,
                         int64_t jr, int64_t nc, float *pb)
{
    const int64_t j = j0 + jr;
    const float *src = g->trans_b ? g->b + j * g->ldb + p0 : g->b + p0 * g->ldb + j;
    kern->pack_b(g->trans_b, src, g->ldb, min64(MLP_NR, nc - jr), kc, pb + jr * k_block(g->k));
}

/* ---- pieces shared by the paths ----------------------------------------------------------- */

/* c = acc + beta * c for one row segment (beta == 0 never reads c); with beta 0 or 1 this rounds exactly
 * like the micro-kernels' stores. */
static void merge_row(int64_t n, const float *acc, float beta, float *c)
{
    if (beta == 0.0f)
        memcpy(c, acc, (size_t)n * sizeof(float));
    else
        for (int64_t j = 0; j < n; ++j) c[j] = acc[j] + beta * c[j];
}

static void epilogue_rows(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t rows,
                          int64_t j0, int64_t cols)
{
    if (!g->bias && g->activation == MLP_ACT_IDENTITY)
        return;
    for (int64_t i = i0; i < i0 + rows; ++i)
        kern->bias_activation(g->activation, cols, g->bias ? g->bias + j0 : NULL, g->c + i * g->ldc + j0);
}

/* C[i0.., j0..] = beta * C when there is nothing to multiply (k == 0 or alpha == 0). */
static void scale_only(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    for (int64_t i = i0; i < i1; ++i) {
        float *c = g->c + i * g->ldc;
        for (int64_t j = j0; j < j1; ++j) c[j] = g->beta == 0.0f ? 0.0f : g->beta * c[j];
    }
    epilogue_rows(kern, g, i0, i1 - i0, j0, j1 - j0);
}

/* ---- the blocked path ------------------------------------------------------------------------ */

/* Operands the wide tile reads in place, without packing: when every tile is a wide one (N in whole groups of
 * MLP_WIDE_PANELS panels, one jc block), B not transposed, and the region a K block reads at most the L2 cache's
 * size as it stands (the MLP's layers at B = 128 and 256). That saves packing matrices a training step uses once,
 * and a team's shared blocks with their barriers. Larger regions are packed: read in place they span too many
 * pages and cache sets (square 960: 94 GFLOP/s with B in place against 103 packed), as do rows 4 KiB apart
 * (every row in the same cache sets). 1 MiB measured better than 512 KiB (B = 256 forward 256x256x784 1.04 -> 1.09x
 * OpenBLAS, 640^3 1.05 -> 1.08x). */
#define IN_PLACE_MAX_FLOATS (256 * 1024)
static int all_wide(const mlp_kernels *kern, const mlp_gemm_problem *g)
{
    return kern->gemm_micro_wide && g->n % (MLP_WIDE_PANELS * MLP_NR) == 0 && g->n <= MLP_NC;
}

static int small_region(int64_t rows, int64_t ld)
{
    return ld > 0 && rows <= IN_PLACE_MAX_FLOATS / ld && ld % 1024 != 0; /* (no product that could overflow) */
}

static int b_in_place(const mlp_kernels *kern, const mlp_gemm_problem *g)
{
    return all_wide(kern, g) && !g->trans_b && small_region(k_block(g->k), g->ldb);
}

/* (A transposed and given by row indices has no fixed stride along a row of op(A): the tile then takes a pointer per
 * K step.) */
static int a_in_place(const mlp_kernels *kern, const mlp_gemm_problem *g)
{
    return all_wide(kern, g) && small_region(g->trans_a ? k_block(g->k) : g->m, g->lda) &&
           (!(g->a_rows && g->trans_a) || kern->gemm_micro_wide_columns);
}

/* Where the micro-tiles find the B block: panel q at base + q * panel_stride, its step p at + p * row_stride. */
typedef struct b_view {
    const float *base;
    int64_t panel_stride, row_stride;
} b_view;

static b_view b_block_view(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t pc, int64_t jc, const float *pb)
{
    const b_view in_place = {g->b + pc * g->ldb + jc, MLP_NR, g->ldb}, packed = {pb, MLP_NR * k_block(g->k), MLP_NR};
    return b_in_place(kern, g) ? in_place : packed;
}

/* The rows of op(A) for the wide tile at rows i.. (mr of them) of the K block at pc: from the packed panel, or in
 * place (rows past mr point at the first row: they may not exist, and their results are not stored). */
static int64_t tile_a_rows(const mlp_gemm_problem *g, const float *panel, int64_t i, int64_t mr, int64_t pc,
                           const float *rows[MLP_MR])
{
    for (int64_t r = 0; r < MLP_MR; ++r) {
        const int64_t row = i + (r < mr ? r : 0);
        rows[r] = panel ? panel + r : g->trans_a ? g->a + pc * g->lda + row : a_stored_row(g, row) + pc;
    }
    return panel ? MLP_MR : g->trans_a ? g->lda : 1;
}

/* The micro-tiles of rows [ic, ic + mc) x column panels [q0, q1) of the jc block; pa is the packed A block, or NULL
 * when A is read in place (then every tile is a wide one). */
static void block_tiles(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t ic, int64_t mc, int64_t jc,
                        int64_t nc, int64_t pc, int64_t kc, const float *pa, b_view b, int64_t q0, int64_t q1, float beta,
                        int last_k)
{
    const int64_t panels_m = (mc + MLP_MR - 1) / MLP_MR;
    const float *columns[MLP_KC]; /* A transposed and by index, read in place: its stored row for each K step */
    const int by_columns = !pa && g->a_rows && g->trans_a;
    for (int64_t p = 0; by_columns && p < kc; ++p) columns[p] = a_stored_row(g, pc + p);
    for (int64_t qj = q0; qj < q1; ++qj) {
        const int64_t jr = qj * MLP_NR, nr = min64(MLP_NR, nc - jr);
        const float *bp = b.base + qj * b.panel_stride;
        if (kern->gemm_micro_wide && qj + MLP_WIDE_PANELS <= q1 && nc - jr >= MLP_WIDE_PANELS * MLP_NR) {
            for (int64_t qi = 0; qi < panels_m; ++qi) { /* MLP_WIDE_PANELS full panels at once */
                const int64_t ir = qi * MLP_MR, mr = min64(MLP_MR, mc - ir);
                float *c = g->c + (ic + ir) * g->ldc + jc + jr;
                if (by_columns) {
                    kern->gemm_micro_wide_columns(kc, columns, ic + ir, bp, b.panel_stride, b.row_stride, c, g->ldc,
                                                  g->alpha, beta, mr);
                } else {
                    const float *rows[MLP_MR];
                    const int64_t cs = tile_a_rows(g, pa ? pa + ir * kc : NULL, ic + ir, mr, pc, rows);
                    kern->gemm_micro_wide(kc, rows, cs, bp, b.panel_stride, b.row_stride, c, g->ldc, g->alpha, beta, mr);
                }
                if (last_k)
                    epilogue_rows(kern, g, ic + ir, mr, jc + jr, MLP_WIDE_PANELS * MLP_NR);
            }
            qj += MLP_WIDE_PANELS - 1;
            continue;
        }
        for (int64_t qi = 0; qi < panels_m; ++qi) {
            const int64_t ir = qi * MLP_MR, mr = min64(MLP_MR, mc - ir);
            float *c = g->c + (ic + ir) * g->ldc + jc + jr;
            kern->gemm_micro(kc, pa + ir * kc, bp, c, g->ldc, g->alpha, beta, mr, nr); /* A packed: not all_wide */
            if (last_k)
                epilogue_rows(kern, g, ic + ir, mr, jc + jr, nr);
        }
    }
}

/* Rows [ic, ic + mc) against the whole packed B block, by one thread: A is packed into the thread's own
 * block, or not packed at all when B is one panel (each element of A then meets B once). */
static void block_rows(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t ic, int64_t mc, int64_t jc,
                       int64_t nc, int64_t pc, int64_t kc, b_view b, float *pa, float *thin_rows, float beta,
                       int last_k)
{
    if (nc <= MLP_THIN_N && kern->gemm_thin) {
        /* Thin B: rows along the vectors, accumulators per column. op(A) columns are read in place when A is
         * stored transposed (a copy measured slower); else MLP_THIN_M rows at a time are transposed into a small
         * buffer. */
        for (int64_t ir = 0; ir < mc; ir += MLP_THIN_M) {
            const int64_t mr = min64(MLP_THIN_M, mc - ir), i = ic + ir;
            const float *a = g->a + pc * g->lda + i;
            int64_t stride = g->lda;
            if (!g->trans_a) {
                kern->pack_rows_thin(g->a + i * g->lda + pc, g->lda, mr, kc, thin_rows);
                a = thin_rows;
                stride = MLP_THIN_M;
            }
            kern->gemm_thin(kc, a, stride, mr, b.base, nc, g->c + i * g->ldc + jc, g->ldc, g->alpha, beta);
            if (last_k)
                epilogue_rows(kern, g, i, mr, jc, nc);
        }
        return;
    }
    if (nc <= MLP_NR) {
        const int64_t rs = g->trans_a ? 1 : g->lda, cs = g->trans_a ? g->lda : 1;
        for (int64_t ir = 0; ir < mc; ir += MLP_MR) {
            const int64_t mr = min64(MLP_MR, mc - ir);
            kern->gemm_micro_unpacked_a(kc, g->a + (ic + ir) * rs + pc * cs, rs, cs, b.base, g->c + (ic + ir) * g->ldc + jc,
                                        g->ldc, g->alpha, beta, mr, nc);
            if (last_k)
                epilogue_rows(kern, g, ic + ir, mr, jc, nc);
        }
        return;
    }
    for (int64_t ir = 0; !a_in_place(kern, g) && ir < mc; ir += MLP_MR)
        pack_a_panel(kern, g, ic, mc, pc, kc, ir, pa);
    block_tiles(kern, g, ic, mc, jc, nc, pc, kc, a_in_place(kern, g) ? NULL : pa, b, 0, (nc + MLP_NR - 1) / MLP_NR,
                beta, last_k);
}

/* Threads split the rows of C (each packs the A panels of its own rows; the packed B block is shared) or
 * its columns (each packs its own B panels; the packed A block is shared): each packs the larger operand
 * privately and the team shares the smaller, behind one barrier per shared block. */
static int split_by_rows(const mlp_gemm_problem *g, int team)
{
    if (team == 1 || g->n <= MLP_NR) /* the thin and one-panel paths split rows */
        return 1;
    const int64_t panels_m = (g->m + MLP_MR - 1) / MLP_MR, panels_n = (min64(g->n, MLP_NC) + MLP_NR - 1) / MLP_NR;
    if (panels_n < team)
        return 1;
    if (panels_m < team)
        return 0;
    return g->m >= g->n;
}

/* The team walks the jc / pc loops together. Shared blocks alternate between two buffers, so a block can
 * be packed while the other threads still read the previous one: a thread packing block b + 2 has passed
 * the barrier of block b + 1, which every thread reaches only after it is done with block b. Every tile
 * is computed by one thread with the same arithmetic whatever the team size (tile grids start at 0 in
 * steps of MR and NR), so results do not depend on it. */
static void gemm_blocked(const mlp_kernels *kern, const mlp_gemm_problem *g, float *workspace, int thread, int team)
{
    const gemm_buffers w = buffers_for(g, workspace, team);
    const int by_rows = split_by_rows(g, team);
    int64_t row_lo = 0, row_hi = g->m;
    if (by_rows) /* in whole micro-panels: MR rows, or the thin kernel's MLP_THIN_M */
        mlp_share(g->m, g->n <= MLP_THIN_N && kern->gemm_thin ? MLP_THIN_M : MLP_MR, thread, team, &row_lo, &row_hi);
    float *thin_rows = w.thin_rows + thread * w.thin_rows_stride;
    int64_t shared_blocks = 0;
    for (int64_t jc = 0; jc < g->n; jc += MLP_NC) {
        const int64_t nc = min64(MLP_NC, g->n - jc), panels_n = (nc + MLP_NR - 1) / MLP_NR;
        int64_t q0 = 0, q1 = panels_n;
        if (!by_rows) {
            /* a shorter last jc block moves the threads' panel ranges: wait until nobody reads the old ones */
            if (jc > 0)
                mlp_barrier(team);
            /* whole wide tiles when every tile is wide: an operand read in place is never packed for the 6x16 tile */
            mlp_share(panels_n, all_wide(kern, g) ? MLP_WIDE_PANELS : 1, thread, team, &q0, &q1);
        }
        for (int64_t pc = 0; pc < g->k; pc += k_block(g->k)) {
            const int64_t kc = min64(k_block(g->k), g->k - pc);
            const float beta = pc == 0 ? g->beta : 1.0f;
            const int last_k = pc + kc == g->k;
            const int pack_b = !b_in_place(kern, g);
            if (by_rows) {
                float *pb = w.b_blocks + (shared_blocks & 1) * w.b_stride;
                if (pack_b) {
                    ++shared_blocks;
                    for (int64_t q = thread; q < panels_n; q += team)
                        pack_b_panel(kern, g, pc, kc, jc, q * MLP_NR, nc, pb);
                    mlp_barrier(team);
                }
                float *pa = w.a_blocks + thread * w.a_stride;
                const b_view b = b_block_view(kern, g, pc, jc, pb);
                for (int64_t ic = row_lo; ic < row_hi; ic += MLP_MC)
                    block_rows(kern, g, ic, min64(MLP_MC, row_hi - ic), jc, nc, pc, kc, b, pa, thin_rows, beta, last_k);
                continue;
            }
            for (int64_t q = q0; pack_b && q < q1; ++q)
                pack_b_panel(kern, g, pc, kc, jc, q * MLP_NR, nc, w.b_blocks);
            for (int64_t ic = 0; ic < g->m; ic += MLP_MC) {
                const int64_t mc = min64(MLP_MC, g->m - ic), panels_m = (mc + MLP_MR - 1) / MLP_MR;
                float *pa = w.a_blocks + (shared_blocks & 1) * w.a_stride;
                if (!a_in_place(kern, g)) {
                    ++shared_blocks;
                    for (int64_t q = thread; q < panels_m; q += team)
                        pack_a_panel(kern, g, ic, mc, pc, kc, q * MLP_MR, pa);
                    mlp_barrier(team);
                }
                block_tiles(kern, g, ic, mc, jc, nc, pc, kc, a_in_place(kern, g) ? NULL : pa,
                            b_block_view(kern, g, pc, jc, w.b_blocks), q0, q1, beta, last_k);
            }
        }
    }
}

/* ---- the few-rows path: no packing, B streamed row by row (scoring one example) ----------- */

#define SMALL_M_MAX 4

/* Same K blocking and the same fused multiply-add order per element as the blocked path, so a
 * row scores bit-identically alone or in a batch. */
static void gemm_few_rows(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t i1,
                          int64_t j0, int64_t j1, float *ws)
{
    float *acc = align_up(ws);
    const int64_t n = j1 - j0;
    for (int64_t i = i0; i < i1; ++i) {
        float *c = g->c + i * g->ldc + j0;
        for (int64_t pc = 0; pc < g->k; pc += k_block(g->k)) {
            const int64_t kc = min64(k_block(g->k), g->k - pc);
            const float *a = g->trans_a ? g->a + pc * g->lda + i : g->a + i * g->lda + pc;
            kern->gemv(kc, a, g->trans_a ? g->lda : 1, g->b + pc * g->ldb + j0, g->ldb, n, acc);
            for (int64_t j = 0; j < n; ++j) acc[j] *= g->alpha;
            merge_row(n, acc, pc == 0 ? g->beta : 1.0f, c);
        }
        epilogue_rows(kern, g, i, 1, j0, n);
    }
}

/* ---- threading -------------------------------------------------------------------------------- */

/* Below this many flops a fork-join costs more than it saves; inside a running team (a barrier instead of a
 * fork-join) the bar is lower. */
#define PARALLEL_MIN_FLOPS (2.0 * 1024 * 1024)
#define TEAM_MIN_FLOPS (2.0 * 128 * 1024)
/* For the few-rows path: elements of B (64K floats = 256 KiB). */
#define FEW_ROWS_PARALLEL_MIN_B (64.0 * 1024)

static int few_rows_path(const mlp_gemm_problem *g) { return g->m <= SMALL_M_MAX && !g->trans_b; }

int mlp_gemm_takes_row_indices(const mlp_kernels *kern, const mlp_gemm_problem *g)
{
    if (g->m == 0 || g->n == 0 || g->k == 0 || g->alpha == 0.0f || few_rows_path(g))
        return 0;
    return a_in_place(kern, g); /* the wide tiles; every other path reads A at a fixed stride or packs it so */
}

static int threads_for(const mlp_gemm_problem *g, int max_threads, double min_flops)
{
    /* A few rows stream all of B once: worth splitting when B outgrows a core's L2 share (each thread then
     * reads its own columns), although the flop count is small. */
    if (few_rows_path(g) ? (double)g->k * (double)g->n < FEW_ROWS_PARALLEL_MIN_B
                         : 2.0 * (double)g->m * (double)g->n * (double)g->k < min_flops)
        return 1;
    const int64_t panels_n = (g->n + MLP_NR - 1) / MLP_NR, panels_m = (g->m + MLP_MR - 1) / MLP_MR;
    const int64_t panels = few_rows_path(g) || g->k == 0 || g->alpha == 0.0f ? panels_n
                           : panels_n > panels_m ? panels_n : panels_m;
    return panels < max_threads ? (int)panels : max_threads;
}

int mlp_gemm_threads(const mlp_gemm_problem *g, int max_threads) { return threads_for(g, max_threads, PARALLEL_MIN_FLOPS); }

/* Thread `thread` of `team` does its share; the blocked path synchronises the team internally. */
static void gemm_share(const mlp_kernels *kern, const mlp_gemm_problem *g, float *workspace, int thread, int team)
{
    if (g->m == 0 || g->n == 0)
        return;
    if (g->k != 0 && g->alpha != 0.0f && !few_rows_path(g)) {
        gemm_blocked(kern, g, workspace, thread, team);
        return;
    }
    /* the paths without shared buffers: threads take column ranges */
    int64_t j0, j1;
    mlp_share(g->n, MLP_NR, thread, team, &j0, &j1);
    if (j0 >= j1)
        return;
    if (g->k == 0 || g->alpha == 0.0f)
        scale_only(kern, g, 0, g->m, j0, j1);
    else
        gemm_few_rows(kern, g, 0, g->m, j0, j1, align_up(workspace + (int64_t)thread * (g->n + ALIGN_FLOATS)));
}

void mlp_gemm_team(const mlp_kernels *kernels, const mlp_gemm_problem *problem, float *workspace, int thread, int team)
{
    if (threads_for(problem, team, TEAM_MIN_FLOPS) == team)
        gemm_share(kernels, problem, workspace, thread, team);
    else if (thread == 0)
        gemm_share(kernels, problem, workspace, 0, 1);
    mlp_barrier(team);
}

typedef struct gemm_task {
    const mlp_kernels *kernels;
    const mlp_gemm_problem *problem;
    float *workspace;
} gemm_task;

static void gemm_task_run(void *ctx, int thread, int team)
{
    const gemm_task *t = ctx;
    gemm_share(t->kernels, t->problem, t->workspace, thread, team);
}

void mlp_gemm(const mlp_kernels *kernels, const mlp_gemm_problem *problem, int num_threads, float *workspace)
{
    gemm_task task = {kernels, problem, workspace};
    mlp_parallel(mlp_gemm_threads(problem, num_threads), gemm_task_run, &task);
}
