/* AVX-512 wide GEMM tile: 6 rows x 64 columns (four 16-column B panels, packed or read in place) in 24 zmm
 * accumulators, with A from a packed panel, from row pointers, or from one pointer per K step (rows by index).
 * The only translation unit compiled with -mavx512f; nothing here runs unless dispatch.c has checked cpuid
 * and xgetbv. With 32 registers one broadcast of A feeds four multiply-adds (two in the 6x16 AVX2 tile), so
 * the loads no longer compete with the multiply-adds. Values and multiply-add order per element are those
 * of the 6x16 micro-kernel: results are bit-identical to it. */
#include <float.h>
#include <immintrin.h>

#include "kernels.h"
#include "mlnetmlp.h"

#define WIDE_ROW_FMA(r, value)                                           \
    do {                                                                 \
        const __m512 ar = _mm512_set1_ps(value);                         \
        c##r##0 = _mm512_fmadd_ps(ar, b0, c##r##0);                      \
        c##r##1 = _mm512_fmadd_ps(ar, b1, c##r##1);                      \
        c##r##2 = _mm512_fmadd_ps(ar, b2, c##r##2);                      \
        c##r##3 = _mm512_fmadd_ps(ar, b3, c##r##3);                      \
    } while (0)

/* alpha * acc, then beta * c fused in (beta == 0 never reads c): the 6x16 kernel's store. */
static inline void wide_store(float *c, __m512 acc, __m512 va, __m512 vb, float beta)
{
    const __m512 scaled = _mm512_mul_ps(va, acc);
    _mm512_storeu_ps(c, beta == 0.0f ? scaled : _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), scaled));
}

#define WIDE_ROW_STORE(r)                                                \
    if ((r) < mr) {                                                      \
        float *cr = c + (r) * ldc;                                       \
        wide_store(cr, c##r##0, va, vb, beta);                           \
        wide_store(cr + 16, c##r##1, va, vb, beta);                      \
        wide_store(cr + 32, c##r##2, va, vb, beta);                      \
        wide_store(cr + 48, c##r##3, va, vb, beta);                      \
    }

/* Where the tile finds op(A)(r, p): a packed panel a_rows[0][p * MR + r], a_rows[r][p * cs_a], or
 * a_columns[p][a_offset + r] (rows past mr read a_offset instead). */
enum { A_PACKED, A_ROWS, A_COLUMNS };

/* The tile for one of those layouts: inlined into the entry points, so that each loop is specialised (the packed
 * one with a single pointer: six row pointers cost square 1024 5% there). */
static inline __attribute__((always_inline)) void wide_tile(int layout, int64_t k, const float *const a_rows[MLP_MR],
                                                           int64_t cs_a, const float *const *a_columns,
                                                           int64_t a_offset, const float *b, int64_t panel_stride,
                                                           int64_t row_stride, float *c, int64_t ldc, float alpha,
                                                           float beta, int64_t mr)
{
    for (int64_t r = 0; r < mr; ++r) /* C is touched only after the k loop: fetch it now */
        for (int64_t line = 0; line < 4; ++line) _mm_prefetch((const char *)(c + r * ldc + 16 * line), _MM_HINT_T0);
    const float *p0 = b, *p1 = b + panel_stride, *p2 = b + 2 * panel_stride, *p3 = b + 3 * panel_stride;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    __m512 c40 = c00, c41 = c00, c42 = c00, c43 = c00, c50 = c00, c51 = c00, c52 = c00, c53 = c00;
    const float *a0 = NULL, *a1 = NULL, *a2 = NULL, *a3 = NULL, *a4 = NULL, *a5 = NULL;
    if (layout != A_COLUMNS)
        a0 = a_rows[0], a1 = a_rows[1], a2 = a_rows[2], a3 = a_rows[3], a4 = a_rows[4], a5 = a_rows[5];
    const int64_t o1 = a_offset + (mr > 1 ? 1 : 0), o2 = a_offset + (mr > 2 ? 2 : 0), o3 = a_offset + (mr > 3 ? 3 : 0);
    const int64_t o4 = a_offset + (mr > 4 ? 4 : 0), o5 = a_offset + (mr > 5 ? 5 : 0);
    for (int64_t p = 0; p < k; ++p) {
        const int64_t o = p * row_stride;
        const __m512 b0 = _mm512_loadu_ps(p0 + o), b1 = _mm512_loadu_ps(p1 + o);
        const __m512 b2 = _mm512_loadu_ps(p2 + o), b3 = _mm512_loadu_ps(p3 + o);
        if (layout == A_PACKED) {
            const float *ap = a0 + p * MLP_MR;
            WIDE_ROW_FMA(0, ap[0]); WIDE_ROW_FMA(1, ap[1]); WIDE_ROW_FMA(2, ap[2]);
            WIDE_ROW_FMA(3, ap[3]); WIDE_ROW_FMA(4, ap[4]); WIDE_ROW_FMA(5, ap[5]);
        } else if (layout == A_COLUMNS) {
            const float *col = a_columns[p];
            WIDE_ROW_FMA(0, col[a_offset]); WIDE_ROW_FMA(1, col[o1]); WIDE_ROW_FMA(2, col[o2]);
            WIDE_ROW_FMA(3, col[o3]); WIDE_ROW_FMA(4, col[o4]); WIDE_ROW_FMA(5, col[o5]);
        } else {
            const int64_t oa = p * cs_a;
            WIDE_ROW_FMA(0, a0[oa]); WIDE_ROW_FMA(1, a1[oa]); WIDE_ROW_FMA(2, a2[oa]);
            WIDE_ROW_FMA(3, a3[oa]); WIDE_ROW_FMA(4, a4[oa]); WIDE_ROW_FMA(5, a5[oa]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    WIDE_ROW_STORE(0) WIDE_ROW_STORE(1) WIDE_ROW_STORE(2) WIDE_ROW_STORE(3) WIDE_ROW_STORE(4) WIDE_ROW_STORE(5)
}

void mlp_gemm_micro_wide_avx512(int64_t k, const float *const a_rows[MLP_MR], int64_t cs_a, const float *b,
                                int64_t panel_stride, int64_t row_stride, float *c, int64_t ldc, float alpha, float beta,
                                int64_t mr)
{
    const float *const *r = a_rows;
    if (cs_a == MLP_MR && r[1] == r[0] + 1 && r[2] == r[0] + 2 && r[3] == r[0] + 3 && r[4] == r[0] + 4 && r[5] == r[0] + 5)
        wide_tile(A_PACKED, k, a_rows, cs_a, NULL, 0, b, panel_stride, row_stride, c, ldc, alpha, beta, mr);
    else
        wide_tile(A_ROWS, k, a_rows, cs_a, NULL, 0, b, panel_stride, row_stride, c, ldc, alpha, beta, mr);
}

void mlp_gemm_micro_wide_columns_avx512(int64_t k, const float *const *a_columns, int64_t a_offset, const float *b,
                                        int64_t panel_stride, int64_t row_stride, float *c, int64_t ldc, float alpha,
                                        float beta, int64_t mr)
{
    wide_tile(A_COLUMNS, k, NULL, 0, a_columns, a_offset, b, panel_stride, row_stride, c, ldc, alpha, beta, mr);
}

/* ---- thin B: the 16 rows in one zmm, one accumulator per column ------------------------------- */

/* Every column at once (at most MLP_THIN_N = 12 accumulators and one A vector): each broadcast of B feeds one
 * 16-lane multiply-add, twice the work per instruction of the AVX2 kernel's two 8-lane ones. Same values and
 * multiply-add order per element (p ascending from zero), so results are bit-identical to it. A full strip of 16
 * rows loads A unmasked: the masked load cost ~10% of the loop on Zen 4 (105 against 117 GFLOP/s standalone). */
#define THIN_STEP(j)                                                                                \
    if (COLS > j) acc##j = _mm512_fmadd_ps(av, _mm512_set1_ps(b[j]), acc##j);
#define THIN_LOOP(LOAD)                                                                                    \
    for (int64_t p = 0; p < k; ++p, a += a_stride, b += MLP_NR) {                                         \
        const __m512 av = LOAD;                                                                            \
        THIN_STEP(0) THIN_STEP(1) THIN_STEP(2) THIN_STEP(3) THIN_STEP(4) THIN_STEP(5)                      \
        THIN_STEP(6) THIN_STEP(7) THIN_STEP(8) THIN_STEP(9) THIN_STEP(10) THIN_STEP(11)                    \
    }
#define THIN_KERNEL(N)                                                                                       \
    static void thin_##N(int64_t k, const float *a, int64_t a_stride, __mmask16 rows, const float *b,           \
                         float out[][MLP_THIN_M])                                                             \
    {                                                                                                      \
        enum { COLS = N };                                                                                 \
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0, acc4 = acc0, acc5 = acc0;  \
        __m512 acc6 = acc0, acc7 = acc0, acc8 = acc0, acc9 = acc0, acc10 = acc0, acc11 = acc0;             \
        if (rows == (__mmask16)0xFFFF) {                                                                   \
            THIN_LOOP(_mm512_loadu_ps(a))                                                                  \
        } else {                                                                                           \
            THIN_LOOP(_mm512_maskz_loadu_ps(rows, a)) /* rows past mr may not exist */                     \
        }                                                                                                  \
        const __m512 all[12] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7, acc8, acc9, acc10, acc11}; \
        for (int j = 0; j < COLS; ++j) _mm512_storeu_ps(out[j], all[j]);                                  \
    }
THIN_KERNEL(1) THIN_KERNEL(2) THIN_KERNEL(3) THIN_KERNEL(4) THIN_KERNEL(5) THIN_KERNEL(6)
THIN_KERNEL(7) THIN_KERNEL(8) THIN_KERNEL(9) THIN_KERNEL(10) THIN_KERNEL(11) THIN_KERNEL(12)
#undef THIN_KERNEL
#undef THIN_LOOP
#undef THIN_STEP

typedef void (*thin_fn)(int64_t, const float *, int64_t, __mmask16, const float *, float[][MLP_THIN_M]);
static const thin_fn thin_kernels[MLP_THIN_N + 1] = {NULL, thin_1, thin_2, thin_3, thin_4, thin_5, thin_6,
                                                     thin_7, thin_8, thin_9, thin_10, thin_11, thin_12};

void mlp_gemm_thin_avx512(int64_t k, const float *a, int64_t a_stride, int64_t mr, const float *b, int64_t n, float *c,
                          int64_t ldc, float alpha, float beta)
{
    float acc[MLP_THIN_N][MLP_THIN_M]; /* acc[j][r]: column j, row r */
    const __mmask16 rows = (__mmask16)((1u << mr) - 1u);
    thin_kernels[n](k, a, a_stride, rows, b, acc);
    mlp_thin_store_avx2(acc, mr, n, c, ldc, alpha, beta);
}

/* ---- Adam ------------------------------------------------------------------------------------ */

/* |x| < FLT_MIN to 0 (NaN stays NaN): the AVX2 update's flush. */
static inline __m512 flush_tiny16(__m512 x)
{
    const __mmask16 keep = _mm512_cmp_ps_mask(_mm512_abs_ps(x), _mm512_set1_ps(FLT_MIN), _CMP_NLT_UQ);
    return _mm512_maskz_mov_ps(keep, x);
}

void mlp_adam_update_avx512(int64_t n, float *w, const float *g, float *m, float *v, float step_size, float beta1,
                            float beta2, float epsilon, float l2, float decay)
{
    const __m512 vdecay = _mm512_set1_ps(decay);
    const __m512 vb1 = _mm512_set1_ps(beta1), vb1c = _mm512_set1_ps(1.0f - beta1);
    const __m512 vb2 = _mm512_set1_ps(beta2), vb2c = _mm512_set1_ps(1.0f - beta2);
    const __m512 veps = _mm512_set1_ps(epsilon), vstep = _mm512_set1_ps(step_size), vl2 = _mm512_set1_ps(l2);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 wj = _mm512_loadu_ps(w + j);
        const __m512 grad = _mm512_fmadd_ps(vl2, wj, _mm512_loadu_ps(g + j));
        wj = _mm512_sub_ps(wj, _mm512_mul_ps(vdecay, wj));
        const __m512 mj = flush_tiny16(_mm512_fmadd_ps(vb1, _mm512_loadu_ps(m + j), _mm512_mul_ps(vb1c, grad)));
        const __m512 vj = flush_tiny16(_mm512_fmadd_ps(vb2, _mm512_loadu_ps(v + j), _mm512_mul_ps(vb2c, _mm512_mul_ps(grad, grad))));
        _mm512_storeu_ps(m + j, mj);
        _mm512_storeu_ps(v + j, vj);
        const __m512 denom = _mm512_add_ps(_mm512_sqrt_ps(vj), veps);
        _mm512_storeu_ps(w + j, _mm512_fnmadd_ps(vstep, _mm512_div_ps(mj, denom), wj));
    }
    /* the rest exactly as the AVX2 set treats it (eight lanes, then scalars) */
    mlp_adam_update_avx2(n - j, w + j, g + j, m + j, v + j, step_size, beta1, beta2, epsilon, l2, decay);
}

/* exp_avx2 (kernels_avx2.c) on 16 lanes: the same clamp, Cody-Waite reduction and polynomial, so the same bits. */
static inline __m512 exp_avx512(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* activation_avx2 on 16 lanes (blends as masked selects). */
static inline __m512 activation_avx512(int32_t act, __m512 x)
{
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    switch (act) {
    case MLP_ACT_RELU: return _mm512_max_ps(x, zero);
    case MLP_ACT_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), _mm512_mul_ps(x, _mm512_set1_ps(MLP_LEAKY_RELU_SLOPE)), x);
    case MLP_ACT_TANH: {
        /* (bitwise float ops through the integer ones: AVX512DQ is not assumed) */
        const __m512i bits = _mm512_castps_si512(x), sign_bit = _mm512_set1_epi32(INT32_MIN);
        const __m512i sign = _mm512_and_epi32(bits, sign_bit);
        const __m512 ax = _mm512_castsi512_ps(_mm512_andnot_epi32(sign_bit, bits));
        const __m512 e = exp_avx512(_mm512_add_ps(ax, ax));
        const __m512 t = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
        return _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(t), sign));
    }
    case MLP_ACT_SIGMOID:
        return _mm512_div_ps(one, _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(zero, x))));
    case MLP_ACT_SELU: {
        const __m512 negative = _mm512_mul_ps(_mm512_set1_ps(MLP_SELU_SCALE_ALPHA),
                                              _mm512_sub_ps(exp_avx512(_mm512_min_ps(x, zero)), one));
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), negative, _mm512_mul_ps(x, _mm512_set1_ps(MLP_SELU_SCALE)));
    }
    default: return x;
    }
}

void mlp_bias_activation_avx512(int32_t act, int64_t n, const float *bias, float *x)
{
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 v = _mm512_loadu_ps(x + j);
        if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + j));
        _mm512_storeu_ps(x + j, activation_avx512(act, v));
    }
    /* the rest exactly as the AVX2 set treats it (eight lanes, then scalars) */
    mlp_bias_activation_avx2(act, n - j, bias ? bias + j : NULL, x + j);
}
