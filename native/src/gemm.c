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
static int64_t k_block(int64_t k)
{
    const int64_t blocks = (k + MLP_KC - 1) / MLP_KC;
    const int64_t kc = blocks > 0 ? round_up((k + blocks - 1) / blocks, 8) : 0;
    return kc < k ? kc : k;
}

static int64_t pack_a_floats(int64_t m, int64_t k) { return min64(MLP_MC, round_up(m, MLP_MR)) * k_block(k); }
static int64_t pack_b_floats(int64_t n, int64_t k) { return min64(MLP_NC, round_up(n, MLP_NR)) * k_block(k); }

int64_t mlp_gemm_workspace_floats(int64_t m, int64_t n, int64_t k, int threads)
{
    /* shared by the team: packed A and B blocks; then each thread's transposed rows for the thin kernel */
    const int64_t blocked = pack_a_floats(m, k) + pack_b_floats(n, k) + 3 * ALIGN_FLOATS +
                            (int64_t)threads * (MLP_THIN_M * k_block(k) + ALIGN_FLOATS);
    const int64_t few_rows = (int64_t)threads * (n + ALIGN_FLOATS) + ALIGN_FLOATS;        /* an accumulator row each */
    return blocked > few_rows ? blocked : few_rows;
}

/* ---- packing ---------------------------------------------------------------------------- */

/* op(A)[i0 .. i0+mc, p0 .. p0+kc) into MR-row micro-panels, op(B)[p0 .. p0+kc, j0 .. j0+nc) into NR-column
 * micro-panels, zero-padded at the edges (the per-panel work is the ISA's). */
static void pack_a_panel(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t mc, int64_t p0,
                         int64_t kc, int64_t ir, float *pa)
{
    const int64_t i = i0 + ir;
    const float *src = g->trans_a ? g->a + p0 * g->lda + i : g->a + i * g->lda + p0;
    kern->pack_a(g->trans_a, src, g->lda, min64(MLP_MR, mc - ir), kc, pa + ir * kc);
}

static void pack_b_panel(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t p0, int64_t kc, int64_t j0,
                         int64_t jr, int64_t nc, float *pb)
{
    const int64_t j = j0 + jr;
    const float *src = g->trans_b ? g->b + j * g->ldb + p0 : g->b + p0 * g->ldb + j;
    kern->pack_b(g->trans_b, src, g->ldb, min64(MLP_NR, nc - jr), kc, pb + jr * kc);
}

/* Splits `total` into `parts` contiguous ranges aligned to `unit`, so that no tile's shape depends on the
 * thread count; part `part` gets [*lo, *hi). */
static void split_range(int64_t total, int64_t unit, int part, int parts, int64_t *lo, int64_t *hi)
{
    const int64_t units = (total + unit - 1) / unit;
    const int64_t base = units / parts, extra = units % parts;
    const int64_t first = part * base + (part < extra ? part : extra);
    const int64_t count = base + (part < extra ? 1 : 0);
    *lo = min64(total, first * unit);
    *hi = min64(total, (first + count) * unit);
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

/* The team works through the same jc / pc / ic loops: it packs each block of B and of A together (panels
 * split between threads), waits, then splits the block's micro-tiles. Every tile is computed by one
 * thread with the same arithmetic whatever the team size, so results do not depend on it. */
static void gemm_blocked(const mlp_kernels *kern, const mlp_gemm_problem *g, float *pa, float *pb, int thread, int team)
{
    for (int64_t jc = 0; jc < g->n; jc += MLP_NC) {
        const int64_t nc = min64(MLP_NC, g->n - jc), panels_n = (nc + MLP_NR - 1) / MLP_NR;
        for (int64_t pc = 0; pc < g->k; pc += k_block(g->k)) {
            const int64_t kc = min64(k_block(g->k), g->k - pc);
            const float beta = pc == 0 ? g->beta : 1.0f;
            const int last_k = pc + kc == g->k;
            for (int64_t q = thread; q < panels_n; q += team)
                pack_b_panel(kern, g, pc, kc, jc, q * MLP_NR, nc, pb);
            mlp_barrier(team);
            for (int64_t ic = 0; ic < g->m; ic += MLP_MC) {
                const int64_t mc = min64(MLP_MC, g->m - ic), panels_m = (mc + MLP_MR - 1) / MLP_MR;
                if (nc <= MLP_THIN_N && kern->gemm_thin) {
                    /* Thin B: 8 rows per vector, one accumulator per column. op(A) columns are read in place
                     * when A is stored transposed; else 8 rows at a time are transposed into a small buffer. */
                    const int64_t groups = (mc + MLP_THIN_M - 1) / MLP_THIN_M;
                    float *rows8 = align_up(pb + pack_b_floats(g->n, g->k) + (int64_t)thread * (MLP_THIN_M * k_block(g->k) + ALIGN_FLOATS));
                    int64_t lo, hi;
                    split_range(groups, 1, thread, team, &lo, &hi);
                    for (int64_t q = lo; q < hi; ++q) {
                        const int64_t ir = q * MLP_THIN_M, mr = min64(MLP_THIN_M, mc - ir), i = ic + ir;
                        const float *a = g->a + pc * g->lda + i;
                        int64_t stride = g->lda;
                        if (!g->trans_a) {
                            kern->pack_rows8(g->a + i * g->lda + pc, g->lda, mr, kc, rows8);
                            a = rows8;
                            stride = MLP_THIN_M;
                        }
                        kern->gemm_thin(kc, a, stride, mr, pb, nc, g->c + i * g->ldc + jc, g->ldc, g->alpha, beta);
                        if (last_k)
                            epilogue_rows(kern, g, i, mr, jc, nc);
                    }
                    continue;
                }
                if (panels_n == 1) {
                    /* One column panel: each element of A meets B once, so A is read in place. */
                    const int64_t rs = g->trans_a ? 1 : g->lda, cs = g->trans_a ? g->lda : 1;
                    int64_t lo, hi;
                    split_range(panels_m, 1, thread, team, &lo, &hi);
                    for (int64_t q = lo; q < hi; ++q) {
                        const int64_t ir = q * MLP_MR, mr = min64(MLP_MR, mc - ir);
                        float *c = g->c + (ic + ir) * g->ldc + jc;
                        kern->gemm_micro_unpacked_a(kc, g->a + (ic + ir) * rs + pc * cs, rs, cs, pb, c, g->ldc, g->alpha,
                                                    beta, mr, nc);
                        if (last_k)
                            epilogue_rows(kern, g, ic + ir, mr, jc, nc);
                    }
                    continue;
                }
                for (int64_t q = thread; q < panels_m; q += team)
                    pack_a_panel(kern, g, ic, mc, pc, kc, q * MLP_MR, pa);
                mlp_barrier(team);
                /* split along whichever dimension has more micro-panels */
                int64_t jr_lo = 0, jr_hi = panels_n, ir_lo = 0, ir_hi = panels_m;
                if (panels_n >= panels_m)
                    split_range(panels_n, 1, thread, team, &jr_lo, &jr_hi);
                else
                    split_range(panels_m, 1, thread, team, &ir_lo, &ir_hi);
                for (int64_t qj = jr_lo; qj < jr_hi; ++qj) {
                    const int64_t jr = qj * MLP_NR, nr = min64(MLP_NR, nc - jr);
                    const float *bp = pb + jr * kc;
                    for (int64_t qi = ir_lo; qi < ir_hi; ++qi) {
                        const int64_t ir = qi * MLP_MR, mr = min64(MLP_MR, mc - ir);
                        float *c = g->c + (ic + ir) * g->ldc + jc + jr;
                        kern->gemm_micro(kc, pa + ir * kc, bp, c, g->ldc, g->alpha, beta, mr, nr);
                        if (last_k)
                            epilogue_rows(kern, g, ic + ir, mr, jc + jr, nr);
                    }
                }
                mlp_barrier(team); /* the packed A block is about to be overwritten */
            }
            mlp_barrier(team); /* ... and the packed B block */
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

/* Below this many flops a fork-join costs more than it saves. */
#define PARALLEL_MIN_FLOPS (2.0 * 1024 * 1024)
/* For the few-rows path: elements of B (64K floats = 256 KiB). */
#define FEW_ROWS_PARALLEL_MIN_B (64.0 * 1024)

static int few_rows_path(const mlp_gemm_problem *g) { return g->m <= SMALL_M_MAX && !g->trans_b; }

/* How many threads this problem can use well: 1 when small, else up to the number of micro-panels. */
static int team_size_for(const mlp_gemm_problem *g, int max_threads)
{
    /* A few rows stream all of B once: worth splitting when B outgrows a core's L2 share (each thread then
     * reads its own columns), although the flop count is small. */
    if (few_rows_path(g) ? (double)g->k * (double)g->n < FEW_ROWS_PARALLEL_MIN_B
                         : 2.0 * (double)g->m * (double)g->n * (double)g->k < PARALLEL_MIN_FLOPS)
        return 1;
    const int64_t panels_n = (g->n + MLP_NR - 1) / MLP_NR, panels_m = (g->m + MLP_MR - 1) / MLP_MR;
    const int64_t panels = few_rows_path(g) || g->k == 0 || g->alpha == 0.0f ? panels_n
                           : panels_n > panels_m ? panels_n : panels_m;
    return panels < max_threads ? (int)panels : max_threads;
}

/* Thread `thread` of `team` does its share; the blocked path synchronises the team internally. */
static void gemm_share(const mlp_kernels *kern, const mlp_gemm_problem *g, float *workspace, int thread, int team)
{
    if (g->m == 0 || g->n == 0)
        return;
    if (g->k != 0 && g->alpha != 0.0f && !few_rows_path(g)) {
        float *pa = align_up(workspace);
        float *pb = align_up(pa + pack_a_floats(g->m, g->k));
        gemm_blocked(kern, g, pa, pb, thread, team);
        return;
    }
    /* the paths without shared buffers: threads take column ranges */
    int64_t j0, j1;
    split_range(g->n, MLP_NR, thread, team, &j0, &j1);
    if (j0 >= j1)
        return;
    if (g->k == 0 || g->alpha == 0.0f)
        scale_only(kern, g, 0, g->m, j0, j1);
    else
        gemm_few_rows(kern, g, 0, g->m, j0, j1, align_up(workspace + (int64_t)thread * (g->n + ALIGN_FLOATS)));
}

void mlp_gemm_team(const mlp_kernels *kernels, const mlp_gemm_problem *problem, float *workspace, int thread, int team)
{
    if (team_size_for(problem, team) == team)
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
    mlp_parallel(team_size_for(problem, num_threads), gemm_task_run, &task);
}
