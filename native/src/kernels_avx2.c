/* AVX2 + FMA kernels. This is the only translation unit compiled with -mavx2 -mfma; nothing here
 * runs unless dispatch.c has checked cpuid and xgetbv. */
#include <float.h>
#include <immintrin.h>
#include <math.h>

#include "dropout.h"
#include "kernels.h"
#include "mlnetmlp.h"
#include "transpose_avx2.h"

/* ---- GEMM micro-kernel: 6 x 16 floats in 12 ymm accumulators ---------------------------- */

#define ROW_FMA(r)                                                      \
    do {                                                                \
        const __m256 ar = _mm256_broadcast_ss(a + (r));                 \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                     \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                     \
    } while (0)

#define ROW_STORE(r)                                                                        \
    do {                                                                                    \
        float *cr = c + (r) * ldc;                                                          \
        if (beta == 0.0f) {                                                                 \
            _mm256_storeu_ps(cr, _mm256_mul_ps(va, c##r##0));                               \
            _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, c##r##1));                           \
        } else {                                                                            \
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), _mm256_mul_ps(va, c##r##0)));         \
            _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), _mm256_mul_ps(va, c##r##1))); \
        }                                                                                   \
    } while (0)

/* Lane masks for the first n (0..8) lanes. */
static inline __m256i first_lanes(int64_t n)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lane);
}

/* An edge tile: the same values as the full-tile store, written only for r < mr, j < nr (through a stack
 * row: masked stores are microcoded and slow on AMD). */
static void store_edge_avx2(const __m256 acc[MLP_MR][2], float *c, int64_t ldc, float alpha, float beta, int64_t mr, int64_t nr)
{
    const __m256i m0 = first_lanes(nr < 8 ? nr : 8), m1 = first_lanes(nr > 8 ? nr - 8 : 0);
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int64_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        __m256 v0 = _mm256_mul_ps(va, acc[r][0]), v1 = _mm256_mul_ps(va, acc[r][1]);
        if (beta != 0.0f) {
            v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), v0);
            v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), v1);
        }
        float row[MLP_NR];
        _mm256_storeu_ps(row, v0);
        _mm256_storeu_ps(row + 8, v1);
        for (int64_t j = 0; j < nr; ++j) cr[j] = row[j];
    }
}

/* Shared by both micro-kernels. TILE_BEGIN: C is touched only after the k loop, so start fetching it now (the loads,
 * or the stores' read-for-ownership, then do not stall on L2/L3), and zero the 12 accumulators. TILE_END: store the
 * full tile, or only its r < mr, j < nr part. */
#define TILE_BEGIN()                                                                                      \
    for (int64_t r_ = 0; r_ < mr; ++r_) {                                                                 \
        _mm_prefetch((const char *)(c + r_ * ldc), _MM_HINT_T0);                                          \
        _mm_prefetch((const char *)(c + r_ * ldc + nr - 1), _MM_HINT_T0);                                 \
    }                                                                                                     \
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;               \
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00
#define TILE_END()                                                                                        \
    do {                                                                                                  \
        if (mr != MLP_MR || nr != MLP_NR) {                                                               \
            const __m256 acc[MLP_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}}; \
            store_edge_avx2(acc, c, ldc, alpha, beta, mr, nr);                                            \
            return;                                                                                       \
        }                                                                                                 \
        const __m256 va = _mm256_set1_ps(alpha);                                                          \
        const __m256 vb = _mm256_set1_ps(beta);                                                           \
        ROW_STORE(0); ROW_STORE(1); ROW_STORE(2); ROW_STORE(3); ROW_STORE(4); ROW_STORE(5);               \
    } while (0)

static void gemm_micro_avx2(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                            float alpha, float beta, int64_t mr, int64_t nr)
{
    TILE_BEGIN();
#define K_STEP(off)                                                                     \
    do {                                                                                \
        const __m256 b0 = _mm256_load_ps(b + (off) * MLP_NR);                           \
        const __m256 b1 = _mm256_load_ps(b + (off) * MLP_NR + 8);                       \
        const float *a_ = a;                                                            \
        a = a_ + (off) * MLP_MR;                                                        \
        ROW_FMA(0); ROW_FMA(1); ROW_FMA(2); ROW_FMA(3); ROW_FMA(4); ROW_FMA(5);         \
        a = a_;                                                                         \
    } while (0)
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
        /* A streams from L2: ask for the panel a few steps ahead */
        _mm_prefetch((const char *)(a + 64), _MM_HINT_T0);
        K_STEP(0); K_STEP(1); K_STEP(2); K_STEP(3);
        a += 4 * MLP_MR;
        b += 4 * MLP_NR;
    }
    for (; p < k; ++p) {
        K_STEP(0);
        a += MLP_MR;
        b += MLP_NR;
    }
#undef K_STEP
    TILE_END();
}

/* A read in place through six row pointers (rows past mr alias row 0; their results are not stored). */
static void gemm_micro_unpacked_a_avx2(int64_t k, const float *a, int64_t rs_a, int64_t cs_a, const float *b, float *c,
                                       int64_t ldc, float alpha, float beta, int64_t mr, int64_t nr)
{
    const float *r0 = a, *r1 = a + (mr > 1 ? rs_a : 0), *r2 = a + (mr > 2 ? 2 * rs_a : 0);
    const float *r3 = a + (mr > 3 ? 3 * rs_a : 0), *r4 = a + (mr > 4 ? 4 * rs_a : 0), *r5 = a + (mr > 5 ? 5 * rs_a : 0);
    TILE_BEGIN();
#define ROW_FMA_AT(r, ptr)                                              \
    do {                                                                \
        const __m256 ar = _mm256_broadcast_ss(ptr + off);               \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                     \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                     \
    } while (0)
    int64_t off = 0;
    for (int64_t p = 0; p < k; ++p, off += cs_a, b += MLP_NR) {
        const __m256 b0 = _mm256_load_ps(b);
        const __m256 b1 = _mm256_load_ps(b + 8);
        ROW_FMA_AT(0, r0); ROW_FMA_AT(1, r1); ROW_FMA_AT(2, r2);
        ROW_FMA_AT(3, r3); ROW_FMA_AT(4, r4); ROW_FMA_AT(5, r5);
    }
#undef ROW_FMA_AT
    TILE_END();
}

/* ---- thin B: 16 rows in two vectors, accumulators per column ------------------------------- */

/* Columns go in chunks of at most 6 (12 accumulators, two A vectors, one broadcast: 15 registers), so each
 * broadcast of B feeds two multiply-adds. */
#define THIN_CHUNK 6
#define THIN_STEP(j)                                                                 \
    if (COLS > j) {                                                                  \
        const __m256 bj = _mm256_broadcast_ss(b + j);                                \
        lo##j = _mm256_fmadd_ps(a0, bj, lo##j);                                      \
        hi##j = _mm256_fmadd_ps(a1, bj, hi##j);                                      \
    }
#define THIN_LOOP(LOAD0, LOAD1)                                                      \
    for (int64_t p = 0; p < k; ++p, a += a_stride, b += MLP_NR) {                    \
        const __m256 a0 = LOAD0, a1 = LOAD1;                                         \
        THIN_STEP(0) THIN_STEP(1) THIN_STEP(2) THIN_STEP(3) THIN_STEP(4) THIN_STEP(5) \
    }
#define THIN_OUT(j)                                                                  \
    if (COLS > j) _mm256_storeu_ps(out[j], lo##j), _mm256_storeu_ps(out[j] + 8, hi##j);
#define THIN_KERNEL(N)                                                                                     \
    static void thin_##N(int64_t k, const float *a, int64_t a_stride, int64_t mr, __m256i mask0, __m256i mask1, \
                         const float *b, float out[][MLP_THIN_M])                                           \
    {                                                                                                    \
        enum { COLS = N };                                                                               \
        __m256 lo0 = _mm256_setzero_ps(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0;          \
        __m256 hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0, hi4 = lo0, hi5 = lo0;                         \
        if (mr == MLP_THIN_M) {                                                                          \
            THIN_LOOP(_mm256_loadu_ps(a), _mm256_loadu_ps(a + 8))                                        \
        } else { /* rows past mr may not exist */                                                        \
            THIN_LOOP(_mm256_maskload_ps(a, mask0), _mm256_maskload_ps(a + 8, mask1))                    \
        }                                                                                                \
        THIN_OUT(0) THIN_OUT(1) THIN_OUT(2) THIN_OUT(3) THIN_OUT(4) THIN_OUT(5)                          \
    }
THIN_KERNEL(1) THIN_KERNEL(2) THIN_KERNEL(3) THIN_KERNEL(4) THIN_KERNEL(5) THIN_KERNEL(6)
#undef THIN_KERNEL
#undef THIN_OUT
#undef THIN_LOOP
#undef THIN_STEP

typedef void (*thin_fn)(int64_t, const float *, int64_t, int64_t, __m256i, __m256i, const float *, float[][MLP_THIN_M]);
static const thin_fn thin_kernels[THIN_CHUNK + 1] = {NULL, thin_1, thin_2, thin_3, thin_4, thin_5, thin_6};

/* c[r, j0 .. j0 + 8) for 8 rows from acc[j0 + j][r0 + r]: an 8 x 8 register transpose, then the 6x16 kernel's
 * store (alpha * acc, beta * c fused in). */
static void thin_store_8x8(float acc[][MLP_THIN_M], int64_t r0, int64_t j0, float *c, int64_t ldc, float alpha, float beta)
{
    __m256 v0 = _mm256_loadu_ps(acc[j0] + r0), v1 = _mm256_loadu_ps(acc[j0 + 1] + r0), v2 = _mm256_loadu_ps(acc[j0 + 2] + r0);
    __m256 v3 = _mm256_loadu_ps(acc[j0 + 3] + r0), v4 = _mm256_loadu_ps(acc[j0 + 4] + r0), v5 = _mm256_loadu_ps(acc[j0 + 5] + r0);
    __m256 v6 = _mm256_loadu_ps(acc[j0 + 6] + r0), v7 = _mm256_loadu_ps(acc[j0 + 7] + r0);
    TRANSPOSE_8X8(v0, v1, v2, v3, v4, v5, v6, v7);
    const __m256 rows[8] = {v0, v1, v2, v3, v4, v5, v6, v7}, va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int64_t r = 0; r < 8; ++r) {
        float *cr = c + (r0 + r) * ldc + j0;
        const __m256 scaled = _mm256_mul_ps(va, rows[r]);
        _mm256_storeu_ps(cr, beta == 0.0f ? scaled : _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), scaled));
    }
}

static void gemm_thin_avx2(int64_t k, const float *a, int64_t a_stride, int64_t mr, const float *b, int64_t n,
                           float *c, int64_t ldc, float alpha, float beta)
{
    float acc[MLP_THIN_N][MLP_THIN_M]; /* acc[j][r]: column j, row r */
    const __m256i mask0 = first_lanes(mr < 8 ? mr : 8), mask1 = first_lanes(mr > 8 ? mr - 8 : 0);
    const int64_t chunks = (n + THIN_CHUNK - 1) / THIN_CHUNK, width = (n + chunks - 1) / chunks; /* 10 = 5 + 5 */
    for (int64_t j0 = 0; j0 < n; j0 += width) {
        const int64_t cols = n - j0 < width ? n - j0 : width;
        thin_kernels[cols](k, a, a_stride, mr, mask0, mask1, b + j0, acc + j0);
    }
    mlp_thin_store_avx2(acc, mr, n, c, ldc, alpha, beta);
}

void mlp_thin_store_avx2(float acc[][MLP_THIN_M], int64_t mr, int64_t n, float *c, int64_t ldc, float alpha, float beta)
{
    /* Full 8 x 8 blocks through registers; the rest element by element with the same arithmetic. */
    const int64_t full_rows = mr & ~(int64_t)7, full_cols = n & ~(int64_t)7;
    for (int64_t r0 = 0; r0 < full_rows; r0 += 8)
        for (int64_t j0 = 0; j0 < full_cols; j0 += 8) thin_store_8x8(acc, r0, j0, c, ldc, alpha, beta);
    for (int64_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        for (int64_t j = r < full_rows ? full_cols : 0; j < n; ++j)
            cr[j] = beta == 0.0f ? alpha * acc[j][r] : fmaf(beta, cr[j], alpha * acc[j][r]);
    }
}

/* ---- vector math ------------------------------------------------------------------------ */

/* exp(x) for x in [-87.3, 88.3] (clamped): Cody-Waite range reduction and a degree-5
 * polynomial, relative error ~2 ulp; enough for activations. */
static inline __m256 exp_avx2(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 activation_avx2(int32_t act, __m256 x)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    switch (act) {
    case MLP_ACT_RELU: return _mm256_max_ps(x, zero);
    case MLP_ACT_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_set1_ps(MLP_LEAKY_RELU_SLOPE)), x,
                                _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    case MLP_ACT_TANH: {
        /* tanh(x) = sign(x) * (1 - 2 / (exp(2|x|) + 1)): no overflow, no cancellation for large |x|. */
        const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
        const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        const __m256 e = exp_avx2(_mm256_add_ps(ax, ax));
        const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
        return _mm256_or_ps(t, sign);
    }
    case MLP_ACT_SIGMOID:
        return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(zero, x))));
    case MLP_ACT_SELU: {
        const __m256 negative = _mm256_mul_ps(_mm256_set1_ps(MLP_SELU_SCALE_ALPHA),
                                              _mm256_sub_ps(exp_avx2(_mm256_min_ps(x, zero)), one));
        return _mm256_blendv_ps(negative, _mm256_mul_ps(x, _mm256_set1_ps(MLP_SELU_SCALE)),
                                _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    }
    default: return x;
    }
}

static inline __m256 activation_derivative_avx2(int32_t act, __m256 h)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    switch (act) {
    case MLP_ACT_RELU: return _mm256_and_ps(_mm256_cmp_ps(h, zero, _CMP_GT_OQ), one);
    case MLP_ACT_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_set1_ps(MLP_LEAKY_RELU_SLOPE), one, _mm256_cmp_ps(h, zero, _CMP_GT_OQ));
    case MLP_ACT_TANH: return _mm256_fnmadd_ps(h, h, one);
    case MLP_ACT_SIGMOID: return _mm256_mul_ps(h, _mm256_sub_ps(one, h));
    case MLP_ACT_SELU:
        return _mm256_blendv_ps(_mm256_add_ps(h, _mm256_set1_ps(MLP_SELU_SCALE_ALPHA)), _mm256_set1_ps(MLP_SELU_SCALE),
                                _mm256_cmp_ps(h, zero, _CMP_GT_OQ));
    default: return one;
    }
}

/* ---- row kernels -------------------------------------------------------------------------- */

/* Columns in blocks of 64 (8 accumulators held across the whole k loop), then the rest together: every
 * element is the same chain of fused multiply-adds, in the same order, as in the micro-kernel. */
static void gemv_avx2(int64_t k, const float *a, int64_t inc_a, const float *b, int64_t ldb, int64_t n, float *acc)
{
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps();
        __m256 c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps(), c6 = _mm256_setzero_ps(), c7 = _mm256_setzero_ps();
        const float *bp = b + j;
        for (int64_t p = 0; p < k; ++p, bp += ldb) {
            const __m256 ap = _mm256_broadcast_ss(a + p * inc_a);
            c0 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp), c0);
            c1 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 8), c1);
            c2 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 16), c2);
            c3 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 24), c3);
            c4 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 32), c4);
            c5 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 40), c5);
            c6 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 48), c6);
            c7 = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 56), c7);
        }
        _mm256_storeu_ps(acc + j, c0);
        _mm256_storeu_ps(acc + j + 8, c1);
        _mm256_storeu_ps(acc + j + 16, c2);
        _mm256_storeu_ps(acc + j + 24, c3);
        _mm256_storeu_ps(acc + j + 32, c4);
        _mm256_storeu_ps(acc + j + 40, c5);
        _mm256_storeu_ps(acc + j + 48, c6);
        _mm256_storeu_ps(acc + j + 56, c7);
    }
    if (j < n) {
        /* The last < 64 columns: up to 8 accumulators advanced together (the last one masked), so that the chains
         * run side by side instead of one after another (a lone chain is bound by the FMA latency). */
        const int64_t rem = n - j, blocks = (rem + 7) / 8;
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rem - (blocks - 1) * 8)), lane);
        __m256 c[8];
        for (int q = 0; q < 8; ++q) c[q] = _mm256_setzero_ps();
        const float *bp = b + j;
        for (int64_t p = 0; p < k; ++p, bp += ldb) {
            const __m256 ap = _mm256_broadcast_ss(a + p * inc_a);
            for (int64_t q = 0; q + 1 < blocks; ++q)
                c[q] = _mm256_fmadd_ps(ap, _mm256_loadu_ps(bp + 8 * q), c[q]);
            c[blocks - 1] = _mm256_fmadd_ps(ap, _mm256_maskload_ps(bp + 8 * (blocks - 1), last), c[blocks - 1]);
        }
        float tail[64];
        for (int64_t q = 0; q < blocks; ++q) _mm256_storeu_ps(tail + 8 * q, c[q]);
        for (int64_t t = 0; t < rem; ++t) acc[j + t] = tail[t];
    }
}

void mlp_bias_activation_avx2(int32_t act, int64_t n, const float *bias, float *x)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
        _mm256_storeu_ps(x + j, activation_avx2(act, v));
    }
    for (; j < n; ++j) x[j] = mlp_activation_scalar(act, bias ? x[j] + bias[j] : x[j]);
}

static void activation_backward_avx2(int32_t act, int64_t n, const float *h, float *g)
{
    if (act == MLP_ACT_IDENTITY) return;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(g + j, _mm256_mul_ps(_mm256_loadu_ps(g + j),
                                              activation_derivative_avx2(act, _mm256_loadu_ps(h + j))));
    for (; j < n; ++j) g[j] *= mlp_activation_derivative_scalar(act, h[j]);
}

/* Lanes j .. j+7 kept? The same hash as mlp_hash32, 8 lanes at a time; unsigned >= via the sign flip. */
static inline __m256 dropout_keep_mask(uint32_t key, int64_t j, __m256i threshold_flipped)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i x = _mm256_add_epi32(_mm256_set1_epi32((int)(key + (uint32_t)j * MLP_DROPOUT_GOLDEN)),
                                 _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)MLP_DROPOUT_GOLDEN)));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
    x = _mm256_mullo_epi32(x, _mm256_set1_epi32(0x7feb352d));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
    x = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)0x846ca68bU));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
    const __m256i flipped = _mm256_xor_si256(x, _mm256_set1_epi32(INT32_MIN));
    /* kept <=> !(threshold > hash) */
    return _mm256_castsi256_ps(_mm256_andnot_si256(_mm256_cmpgt_epi32(threshold_flipped, flipped), _mm256_set1_epi32(-1)));
}

static void dropout_forward_avx2(int64_t n, float *h, uint32_t key, uint32_t threshold, float scale)
{
    const __m256i thr = _mm256_set1_epi32((int)(threshold ^ 0x80000000U));
    const __m256 vscale = _mm256_set1_ps(scale);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(h + j, _mm256_and_ps(dropout_keep_mask(key, j, thr), _mm256_mul_ps(_mm256_loadu_ps(h + j), vscale)));
    for (; j < n; ++j)
        h[j] = mlp_hash32(key + (uint32_t)j * MLP_DROPOUT_GOLDEN) >= threshold ? h[j] * scale : 0.0f;
}

static void dropout_backward_avx2(int32_t act, int64_t n, const float *h, float *g, uint32_t key, uint32_t threshold,
                                  float keep)
{
    const __m256i thr = _mm256_set1_epi32((int)(threshold ^ 0x80000000U));
    const float scale = 1.0f / keep;
    const __m256 vscale = _mm256_set1_ps(scale), vkeep = _mm256_set1_ps(keep);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 d = activation_derivative_avx2(act, _mm256_mul_ps(_mm256_loadu_ps(h + j), vkeep));
        const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j), vscale), d);
        _mm256_storeu_ps(g + j, _mm256_and_ps(dropout_keep_mask(key, j, thr), v));
    }
    for (; j < n; ++j)
        g[j] = mlp_hash32(key + (uint32_t)j * MLP_DROPOUT_GOLDEN) >= threshold
                   ? g[j] * scale * mlp_activation_derivative_scalar(act, h[j] * keep)
                   : 0.0f;
}

static void accumulate_avx2(int64_t n, const float *x, float *sum)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(sum + j, _mm256_add_ps(_mm256_loadu_ps(sum + j), _mm256_loadu_ps(x + j)));
    for (; j < n; ++j) sum[j] += x[j];
}

/* Moments below the smallest normal float become zero (see flush_tiny in kernels_generic.c). */
static inline __m256 flush_tiny8(__m256 x)
{
    const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    return _mm256_and_ps(x, _mm256_cmp_ps(magnitude, _mm256_set1_ps(FLT_MIN), _CMP_NLT_UQ)); /* NaN stays NaN */
}

static inline float flush_tiny(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; }

static void axpy_avx2(int64_t n, float a, const float *x, float *y)
{
    const __m256 va = _mm256_set1_ps(a);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j)));
    for (; j < n; ++j) y[j] = fmaf(a, x[j], y[j]);
}

static void sgd_update_avx2(int64_t n, float *w, const float *g, float *velocity, float lr,
                            float momentum, int32_t nesterov, float l2, float decay)
{
    const __m256 vlr = _mm256_set1_ps(lr), vl2 = _mm256_set1_ps(l2), vmom = _mm256_set1_ps(momentum);
    const __m256 vdecay = _mm256_set1_ps(decay);
    int64_t j = 0;
    if (momentum == 0.0f) {
        for (; j + 8 <= n; j += 8) {
            __m256 wj = _mm256_loadu_ps(w + j);
            const __m256 grad = _mm256_fmadd_ps(vl2, wj, _mm256_loadu_ps(g + j));
            wj = _mm256_sub_ps(wj, _mm256_mul_ps(vdecay, wj));
            _mm256_storeu_ps(w + j, _mm256_sub_ps(wj, _mm256_mul_ps(vlr, grad)));
        }
        for (; j < n; ++j) {
            const float grad = g[j] + l2 * w[j];
            w[j] -= decay * w[j];
            w[j] -= lr * grad;
        }
        return;
    }
    for (; j + 8 <= n; j += 8) {
        __m256 wj = _mm256_loadu_ps(w + j);
        const __m256 grad = _mm256_fmadd_ps(vl2, wj, _mm256_loadu_ps(g + j));
        wj = _mm256_sub_ps(wj, _mm256_mul_ps(vdecay, wj));
        const __m256 vel = flush_tiny8(_mm256_fnmadd_ps(vlr, grad, _mm256_mul_ps(vmom, _mm256_loadu_ps(velocity + j))));
        _mm256_storeu_ps(velocity + j, vel);
        const __m256 step = nesterov ? _mm256_fnmadd_ps(vlr, grad, _mm256_mul_ps(vmom, vel)) : vel;
        _mm256_storeu_ps(w + j, _mm256_add_ps(wj, step));
    }
    for (; j < n; ++j) {
        const float grad = g[j] + l2 * w[j];
        w[j] -= decay * w[j];
        const float vel = flush_tiny(momentum * velocity[j] - lr * grad);
        velocity[j] = vel;
        w[j] += nesterov ? momentum * vel - lr * grad : vel;
    }
}

void mlp_adam_update_avx2(int64_t n, float *w, const float *g, float *m, float *v, float step_size, float beta1,
                          float beta2, float epsilon, float l2, float decay)
{
    const __m256 vdecay = _mm256_set1_ps(decay);
    const __m256 vb1 = _mm256_set1_ps(beta1), vb1c = _mm256_set1_ps(1.0f - beta1);
    const __m256 vb2 = _mm256_set1_ps(beta2), vb2c = _mm256_set1_ps(1.0f - beta2);
    const __m256 veps = _mm256_set1_ps(epsilon), vstep = _mm256_set1_ps(step_size), vl2 = _mm256_set1_ps(l2);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 wj = _mm256_loadu_ps(w + j);
        const __m256 grad = _mm256_fmadd_ps(vl2, wj, _mm256_loadu_ps(g + j));
        wj = _mm256_sub_ps(wj, _mm256_mul_ps(vdecay, wj));
        const __m256 mj = flush_tiny8(_mm256_fmadd_ps(vb1, _mm256_loadu_ps(m + j), _mm256_mul_ps(vb1c, grad)));
        const __m256 vj = flush_tiny8(_mm256_fmadd_ps(vb2, _mm256_loadu_ps(v + j), _mm256_mul_ps(vb2c, _mm256_mul_ps(grad, grad))));
        _mm256_storeu_ps(m + j, mj);
        _mm256_storeu_ps(v + j, vj);
        const __m256 denom = _mm256_add_ps(_mm256_sqrt_ps(vj), veps);
        _mm256_storeu_ps(w + j, _mm256_fnmadd_ps(vstep, _mm256_div_ps(mj, denom), wj));
    }
    for (; j < n; ++j) {
        const float grad = g[j] + l2 * w[j];
        w[j] -= decay * w[j];
        const float mj = flush_tiny(beta1 * m[j] + (1.0f - beta1) * grad);
        const float vj = flush_tiny(beta2 * v[j] + (1.0f - beta2) * grad * grad);
        m[j] = mj;
        v[j] = vj;
        w[j] -= step_size * mj / (sqrtf(vj) + epsilon);
    }
}

/* mlp_exp (portable_math.h) of four x <= 0 at once, with its bits: the same IEEE operations in the same order
 * (separate multiplies and adds: the library builds with -ffp-contract=off), without its branches: inputs outside
 * [-745.13, 0] are computed as 0 and their result replaced (0 below, NaN for NaN and for x > 0, outside the
 * contract), floor(y) for |y| < 2^31 is the truncation less 1 where that exceeds y, and both of mlp_exp's final
 * scalings are computed and one chosen. */
static inline __attribute__((always_inline)) __m256d exp_nonpositive4(__m256d x)
{
    const __m256d lowest = _mm256_set1_pd(-745.1332191019412), zero = _mm256_setzero_pd();
    const __m256d in_range = _mm256_and_pd(_mm256_cmp_pd(x, lowest, _CMP_GE_OQ), _mm256_cmp_pd(x, zero, _CMP_LE_OQ));
    const __m256d xs = _mm256_and_pd(in_range, x);
    const __m256d y = _mm256_add_pd(_mm256_mul_pd(xs, _mm256_set1_pd(1.4426950408889634)), _mm256_set1_pd(0.5));
    const __m256d t = _mm256_cvtepi32_pd(_mm256_cvttpd_epi32(y));
    const __m256d kd = _mm256_sub_pd(t, _mm256_and_pd(_mm256_cmp_pd(t, y, _CMP_GT_OQ), _mm256_set1_pd(1.0)));
    const __m128i k = _mm256_cvttpd_epi32(kd);
    const __m256d r = _mm256_sub_pd(_mm256_sub_pd(xs, _mm256_mul_pd(kd, _mm256_set1_pd(6.93147180369123816490e-01))),
                                    _mm256_mul_pd(kd, _mm256_set1_pd(1.90821492927058770002e-10)));
    static const double inverse_factorials[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                                1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
                                                1.0 / 24.0,        1.0 / 6.0,        0.5};
    __m256d p = _mm256_set1_pd(1.0 / 6227020800.0);
    for (int i = 0; i < 11; ++i) p = _mm256_add_pd(_mm256_mul_pd(p, r), _mm256_set1_pd(inverse_factorials[i]));
    const __m256d er = _mm256_add_pd(_mm256_set1_pd(1.0), _mm256_add_pd(r, _mm256_mul_pd(_mm256_mul_pd(r, r), p)));
    const __m128i normal_k = _mm_max_epi32(k, _mm_set1_epi32(-1021));
    const __m256d normal_scale = _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_cvtepu32_epi64(_mm_add_epi32(normal_k, _mm_set1_epi32(1023))), 52));
    const __m256d subnormal_scale = _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_cvtepu32_epi64(_mm_add_epi32(k, _mm_set1_epi32(54 + 1023))), 52));
    const __m256d normal = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_cmpgt_epi32(k, _mm_set1_epi32(-1022))));
    const __m256d e = _mm256_blendv_pd(_mm256_mul_pd(_mm256_mul_pd(er, subnormal_scale), _mm256_set1_pd(5.5511151231257827e-17)),
                                       _mm256_mul_pd(er, normal_scale), normal);
    const __m256d outside = _mm256_blendv_pd(_mm256_set1_pd(NAN), zero, _mm256_cmp_pd(x, lowest, _CMP_LT_OQ));
    return _mm256_blendv_pd(outside, e, in_range);
}

static void exp_nonpositive_avx2(int64_t n, const double *x, double *out)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) { /* two independent chains in flight */
        const __m256d e0 = exp_nonpositive4(_mm256_loadu_pd(x + j)), e1 = exp_nonpositive4(_mm256_loadu_pd(x + j + 4));
        _mm256_storeu_pd(out + j, e0);
        _mm256_storeu_pd(out + j + 4, e1);
    }
    for (; j + 4 <= n; j += 4) _mm256_storeu_pd(out + j, exp_nonpositive4(_mm256_loadu_pd(x + j)));
    if (j < n) {
        double in[4] = {0.0, 0.0, 0.0, 0.0}, res[4];
        for (int64_t i = j; i < n; ++i) in[i - j] = x[i];
        _mm256_storeu_pd(res, exp_nonpositive4(_mm256_loadu_pd(in)));
        for (int64_t i = j; i < n; ++i) out[i] = res[i - j];
    }
}

/* The stripes in two registers: lanes 0-3 and 4-7 (j mod 8), then the generic tree. */
static double scale_and_dot_avx2(int64_t n, float s, const float *p, const float *a, float *y)
{
    const __m256 vs = _mm256_set1_ps(s);
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 pj = _mm256_loadu_ps(p + j), aj = _mm256_loadu_ps(a + j);
        _mm256_storeu_ps(y + j, _mm256_mul_ps(vs, pj));
        lo = _mm256_add_pd(lo, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(aj)), _mm256_cvtps_pd(_mm256_castps256_ps128(pj))));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(aj, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(pj, 1))));
    }
    double acc[8];
    _mm256_storeu_pd(acc, lo);
    _mm256_storeu_pd(acc + 4, hi);
    for (int i = 0; j < n; ++j, ++i) {
        y[j] = s * p[j];
        acc[i] += (double)a[j] * (double)p[j];
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void scale_avx2(int64_t n, float a, const float *x, float *y)
{
    const __m256 va = _mm256_set1_ps(a);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_mul_ps(va, _mm256_loadu_ps(x + j)));
    for (; j < n; ++j) y[j] = a * x[j];
}

const mlp_kernels mlp_kernels_avx2 = {
    "avx2",
    gemm_micro_avx2,
    gemm_micro_unpacked_a_avx2,
    gemm_thin_avx2,
    mlp_pack_rows_thin_avx2,
    mlp_pack_a_avx2,
    mlp_pack_b_avx2,
    gemv_avx2,
    mlp_bias_activation_avx2,
    activation_backward_avx2,
    dropout_forward_avx2,
    dropout_backward_avx2,
    accumulate_avx2,
    axpy_avx2,
    sgd_update_avx2,
    mlp_adam_update_avx2,
    NULL, /* no wide tiles */
    NULL,
    exp_nonpositive_avx2,
    scale_and_dot_avx2,
    scale_avx2,
};
