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

static int64_t pack_a_floats(int64_t m, int64_t k) { return min64(MLP_MC, round_up(m, MLP_MR)) * min64(MLP_KC, k); }
static int64_t pack_b_floats(int64_t n, int64_t k) { return min64(MLP_NC, round_up(n, MLP_NR)) * min64(MLP_KC, k); }

int64_t mlp_gemm_workspace_floats(int64_t m, int64_t n, int64_t k)
{
    const int64_t blocked = pack_a_floats(m, k) + pack_b_floats(n, k);
    const int64_t few_rows = n; /* one accumulator row */
    return (blocked > few_rows ? blocked : few_rows) + 4 * ALIGN_FLOATS;
}

/* ---- packing ---------------------------------------------------------------------------- */

/* op(A)[i0 .. i0+mc, p0 .. p0+kc) into MR-row micro-panels, op(B)[p0 .. p0+kc, j0 .. j0+nc) into NR-column
 * micro-panels, zero-padded at the edges (the per-panel work is the ISA's). */
static void pack_a(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *dst)
{
    for (int64_t ir = 0; ir < mc; ir += MLP_MR, dst += MLP_MR * kc) {
        const int64_t i = i0 + ir;
        const float *src = g->trans_a ? g->a + p0 * g->lda + i : g->a + i * g->lda + p0;
        kern->pack_a(g->trans_a, src, g->lda, min64(MLP_MR, mc - ir), kc, dst);
    }
}

static void pack_b(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float *dst)
{
    for (int64_t jr = 0; jr < nc; jr += MLP_NR, dst += MLP_NR * kc) {
        const int64_t j = j0 + jr;
        const float *src = g->trans_b ? g->b + j * g->ldb + p0 : g->b + p0 * g->ldb + j;
        kern->pack_b(g->trans_b, src, g->ldb, min64(MLP_NR, nc - jr), kc, dst);
    }
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

static void gemm_blocked(const mlp_kernels *kern, const mlp_gemm_problem *g, int64_t i0, int64_t i1,
                         int64_t j0, int64_t j1, float *ws)
{
    float *pa = align_up(ws);
    float *pb = align_up(pa + pack_a_floats(g->m, g->k));

    for (int64_t jc = j0; jc < j1; jc += MLP_NC) {
        const int64_t nc = min64(MLP_NC, j1 - jc);
        for (int64_t pc = 0; pc < g->k; pc += MLP_KC) {
            const int64_t kc = min64(MLP_KC, g->k - pc);
            const float beta = pc == 0 ? g->beta : 1.0f;
            const int last_k = pc + kc == g->k;
            pack_b(kern, g, pc, kc, jc, nc, pb);
            for (int64_t ic = i0; ic < i1; ic += MLP_MC) {
                const int64_t mc = min64(MLP_MC, i1 - ic);
                pack_a(kern, g, ic, mc, pc, kc, pa);
                for (int64_t jr = 0; jr < nc; jr += MLP_NR) {
                    const int64_t nr = min64(MLP_NR, nc - jr);
                    const float *bp = pb + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += MLP_MR) {
                        const int64_t mr = min64(MLP_MR, mc - ir);
                        const float *ap = pa + ir * kc;
                        float *c = g->c + (ic + ir) * g->ldc + jc + jr;
                        kern->gemm_micro(kc, ap, bp, c, g->ldc, g->alpha, beta, mr, nr);
                        if (last_k)
                            epilogue_rows(kern, g, ic + ir, mr, jc + jr, nr);
                    }
                }
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
        for (int64_t pc = 0; pc < g->k; pc += MLP_KC) {
            const int64_t kc = min64(MLP_KC, g->k - pc);
            memset(acc, 0, (size_t)n * sizeof(float));
            for (int64_t p = pc; p < pc + kc; ++p) {
                const float aip = g->trans_a ? g->a[p * g->lda + i] : g->a[i * g->lda + p];
                kern->axpy(n, aip, g->b + p * g->ldb + j0, acc);
            }
            for (int64_t j = 0; j < n; ++j) acc[j] *= g->alpha;
            merge_row(n, acc, pc == 0 ? g->beta : 1.0f, c);
        }
        epilogue_rows(kern, g, i, 1, j0, n);
    }
}

/* ---- threading -------------------------------------------------------------------------------- */

typedef struct gemm_task {
    const mlp_kernels *kernels;
    const mlp_gemm_problem *problem;
    float *workspace;
    int64_t workspace_per_thread;
    int split_n; /* 1: threads take column ranges, 0: row ranges */
    int few_rows;
} gemm_task;

/* Ranges aligned to the register block so that no tile's shape depends on the thread count. */
static void split_range(int64_t total, int64_t unit, int part, int parts, int64_t *lo, int64_t *hi)
{
    const int64_t units = (total + unit - 1) / unit;
    const int64_t base = units / parts, extra = units % parts;
    const int64_t first = part * base + (part < extra ? part : extra);
    const int64_t count = base + (part < extra ? 1 : 0);
    *lo = min64(total, first * unit);
    *hi = min64(total, (first + count) * unit);
}

static void gemm_task_run(void *ctx, int thread, int team)
{
    const gemm_task *t = ctx;
    const mlp_gemm_problem *g = t->problem;
    int64_t i0 = 0, i1 = g->m, j0 = 0, j1 = g->n;
    if (t->split_n)
        split_range(g->n, MLP_NR, thread, team, &j0, &j1);
    else
        split_range(g->m, MLP_MR, thread, team, &i0, &i1);
    if (i0 >= i1 || j0 >= j1)
        return;
    float *ws = t->workspace + (int64_t)thread * t->workspace_per_thread;
    if (g->k == 0 || g->alpha == 0.0f)
        scale_only(t->kernels, g, i0, i1, j0, j1);
    else if (t->few_rows)
        gemm_few_rows(t->kernels, g, i0, i1, j0, j1, ws);
    else
        gemm_blocked(t->kernels, g, i0, i1, j0, j1, ws);
}

/* Below this many flops a fork-join costs more than it saves. */
#define PARALLEL_MIN_FLOPS (2.0 * 1024 * 1024)

void mlp_gemm(const mlp_kernels *kernels, const mlp_gemm_problem *problem, int num_threads, float *workspace)
{
    const mlp_gemm_problem *g = problem;
    if (g->m == 0 || g->n == 0)
        return;
    gemm_task task = {kernels, g, workspace, mlp_gemm_workspace_floats(g->m, g->n, g->k), 1, 0};
    task.few_rows = g->m <= SMALL_M_MAX && !g->trans_b;

    const int64_t panels_n = (g->n + MLP_NR - 1) / MLP_NR, panels_m = (g->m + MLP_MR - 1) / MLP_MR;
    task.split_n = task.few_rows || g->n >= g->m;
    const int64_t panels = task.split_n ? panels_n : panels_m;
    int team = num_threads;
    if (2.0 * (double)g->m * (double)g->n * (double)g->k < PARALLEL_MIN_FLOPS)
        team = 1;
    if (team > panels)
        team = (int)panels;
    mlp_parallel(team, gemm_task_run, &task);
}
