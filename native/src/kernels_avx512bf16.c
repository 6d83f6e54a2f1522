/* bfloat16 GEMM kernels (AVX512_BF16: vcvtne2ps2bf16, vdpbf16ps). The only translation unit compiled with
 * -mavx512bf16; nothing here runs unless dispatch.c found AVX512_BF16 in cpuid (and the OS saves ZMM state).
 * Operands are packed as bf16 pairs along K: one 32-bit element holds op(X)(., 2q) in its low half and
 * op(X)(., 2q + 1) in its high half (0 past K), rounded to nearest even; vdpbf16ps adds both products into a
 * float32 accumulator. */
#include <immintrin.h>

#include "gemm_bf16.h"

/* 16 pairs (r0[j], r1[j]) for j < n <= 16 (r1 NULL: 0), rounded to bf16. */
static inline __m512i interleave16(const float *r0, const float *r1, int64_t n)
{
    const __mmask16 m = (__mmask16)((1u << n) - 1u);
    const __m512 a = _mm512_maskz_loadu_ps(m, r0), b = r1 ? _mm512_maskz_loadu_ps(m, r1) : _mm512_setzero_ps();
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 lo = _mm512_permutex2var_ps(a, lo_idx, b), hi = _mm512_permutex2var_ps(a, hi_idx, b);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); /* element i < 16 from lo, the rest from hi */
}

void mlp_bf16_pack_pairs_avx512(const float *const rows[2], int64_t n, uint32_t *dst, int64_t chunk_stride)
{
    for (int64_t j = 0; j < n; j += 16) {
        const int64_t w = n - j < 16 ? n - j : 16;
        const __m512i v = interleave16(rows[0] + j, rows[1] ? rows[1] + j : NULL, w);
        _mm512_mask_storeu_epi32(dst + (j / 16) * chunk_stride, (__mmask16)((1u << w) - 1u), v);
    }
}

/* r[i] = column i of the 16 x 16 matrix of 32-bit words the rows r[0..16) hold. */
static inline void transpose16(__m512i r[16])
{
    __m512i t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0x88);
        t[4 + i] = _mm512_shuffle_i32x4(r[i], r[4 + i], 0xdd);
        t[8 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0x88);
        t[12 + i] = _mm512_shuffle_i32x4(r[8 + i], r[12 + i], 0xdd);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);
        r[4 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0x88);
        r[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xdd);
        r[12 + i] = _mm512_shuffle_i32x4(t[4 + i], t[12 + i], 0xdd);
    }
}

void mlp_bf16_pack_rows_avx512(const float *const *rows, int64_t count, int64_t k, uint32_t *dst)
{
    for (int64_t p = 0; p < k; p += 32) {
        /* 32 values of each row: its 16 pairs of these K steps, one row per register, then turned into one
         * register per K step (16 rows) by a transpose */
        const int64_t w = k - p < 32 ? k - p : 32, pairs = (w + 1) / 2;
        const __mmask16 m0 = (__mmask16)(w >= 16 ? 0xFFFFu : (1u << w) - 1u);
        const __mmask16 m1 = (__mmask16)(w <= 16 ? 0u : w >= 32 ? 0xFFFFu : (1u << (w - 16)) - 1u);
        __m512i r[16];
        for (int64_t i = 0; i < 16; ++i) {
            if (i >= count) {
                r[i] = _mm512_setzero_si512();
                continue;
            }
            const __m512 a = _mm512_maskz_loadu_ps(m0, rows[i] + p), b = _mm512_maskz_loadu_ps(m1, rows[i] + p + 16);
            r[i] = (__m512i)_mm512_cvtne2ps_pbh(b, a); /* pairs (row[p + 2q], row[p + 2q + 1]) in order */
        }
        transpose16(r);
        for (int64_t q = 0; q < pairs; ++q) _mm512_storeu_si512(dst + (p / 2 + q) * MLP_BF16_PANEL, r[q]);
    }
}

/* alpha * acc (+ beta * c) into the first columns (mask) of a row. */
static inline void store_row(float *c, __m512 acc, __mmask16 m, __m512 va, __m512 vb, float beta)
{
    const __m512 scaled = _mm512_mul_ps(va, acc);
    _mm512_mask_storeu_ps(c, m, beta == 0.0f ? scaled : _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), scaled));
}

#define BF_ROW(r)                                                                                 \
    do {                                                                                          \
        const __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a##r[q * a_stride]);                \
        c##r##0 = _mm512_dpbf16_ps(c##r##0, ar, b0);                                              \
        if (PANELS > 1) c##r##1 = _mm512_dpbf16_ps(c##r##1, ar, b1);                              \
        if (PANELS > 2) c##r##2 = _mm512_dpbf16_ps(c##r##2, ar, b2);                              \
    } while (0)

#define BF_STORE(r)                                                                               \
    if ((r) < mr) {                                                                               \
        float *cr = c + (r) * ldc;                                                                \
        store_row(cr, c##r##0, m0, va, vb, beta);                                                 \
        if (PANELS > 1) store_row(cr + 16, c##r##1, m1, va, vb, beta);                            \
        if (PANELS > 2) store_row(cr + 32, c##r##2, m2, va, vb, beta);                            \
    }

/* The tile with a fixed number of B panels: 8 rows x 16 PANELS columns in 8 PANELS accumulators; FETCH: one line of
 * the prefetch rows per K pair. */
static inline __attribute__((always_inline)) void bf16_tile(const int PANELS, const int FETCH, int64_t q_count,
                                                           const uint32_t *const a_rows[8], int64_t a_stride,
                                                           const uint32_t *b, int64_t panel_stride, float *c,
                                                           int64_t ldc, float alpha, float beta, int64_t mr, int64_t nc,
                                                           const float *const *prefetch)
{
    const uint32_t *a0 = a_rows[0], *a1 = a_rows[1], *a2 = a_rows[2], *a3 = a_rows[3];
    const uint32_t *a4 = a_rows[4], *a5 = a_rows[5], *a6 = a_rows[6], *a7 = a_rows[7];
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00, c20 = c00, c21 = c00;
    __m512 c22 = c00, c30 = c00, c31 = c00, c32 = c00, c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00;
    __m512 c52 = c00, c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    const uint32_t *p0 = b, *p1 = b + panel_stride, *p2 = b + 2 * panel_stride;
    for (int64_t q = 0; q < q_count; ++q) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(p0 + q * MLP_BF16_PANEL);
        const __m512bh b1 = PANELS > 1 ? (__m512bh)_mm512_loadu_si512(p1 + q * MLP_BF16_PANEL) : b0;
        const __m512bh b2 = PANELS > 2 ? (__m512bh)_mm512_loadu_si512(p2 + q * MLP_BF16_PANEL) : b0;
        BF_ROW(0); BF_ROW(1); BF_ROW(2); BF_ROW(3); BF_ROW(4); BF_ROW(5); BF_ROW(6); BF_ROW(7);
        if (FETCH) _mm_prefetch((const char *)(prefetch[q & 7] + (q >> 3) * 16), _MM_HINT_T0);
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const int64_t n0 = nc < 16 ? nc : 16, n1 = nc - 16 < 16 ? nc - 16 : 16, n2 = nc - 32;
    const __mmask16 m0 = (__mmask16)((1u << n0) - 1u);
    const __mmask16 m1 = PANELS > 1 ? (__mmask16)((1u << n1) - 1u) : 0, m2 = PANELS > 2 ? (__mmask16)((1u << n2) - 1u) : 0;
    BF_STORE(0) BF_STORE(1) BF_STORE(2) BF_STORE(3) BF_STORE(4) BF_STORE(5) BF_STORE(6) BF_STORE(7)
}

void mlp_bf16_tile_avx512(int64_t q_count, const uint32_t *const a_rows[8], int64_t a_stride, const uint32_t *b,
                          int64_t panel_stride, float *c, int64_t ldc, float alpha, float beta, int64_t mr, int64_t nc,
                          const float *const *prefetch)
{
#define BF_TILE(P, F) bf16_tile(P, F, q_count, a_rows, a_stride, b, panel_stride, c, ldc, alpha, beta, mr, nc, prefetch)
    if (prefetch) {
        if (nc > 32) BF_TILE(3, 1); else if (nc > 16) BF_TILE(2, 1); else BF_TILE(1, 1);
    } else {
        if (nc > 32) BF_TILE(3, 0); else if (nc > 16) BF_TILE(2, 0); else BF_TILE(1, 0);
    }
#undef BF_TILE
}

void mlp_bf16_row_pairs_avx512(const float *x, int64_t k, uint32_t *dst)
{
    for (int64_t p = 0; p < k; p += 32) {
        const int64_t w = k - p < 32 ? k - p : 32, pairs = (w + 1) / 2;
        const __mmask16 m0 = (__mmask16)(w >= 16 ? 0xFFFFu : (1u << w) - 1u);
        const __mmask16 m1 = (__mmask16)(w <= 16 ? 0u : w >= 32 ? 0xFFFFu : (1u << (w - 16)) - 1u);
        const __m512 a = _mm512_maskz_loadu_ps(m0, x + p), b = _mm512_maskz_loadu_ps(m1, x + p + 16);
        _mm512_mask_storeu_epi32(dst + p / 2, (__mmask16)((1u << pairs) - 1u), (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
}

/* Up to 16 panels of one row: one accumulator chain per 16 columns, K steps in order (the tile's arithmetic). */
static void gemv_group(int64_t q_count, const uint32_t *x, const uint32_t *panels, int64_t panel_words, int64_t n,
                       float *out)
{
    __m512 acc[16];
    const int64_t count = (n + 15) / 16;
    for (int64_t c = 0; c < 16; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t q = 0; q < q_count; ++q) {
        const __m512bh xq = (__m512bh)_mm512_set1_epi32((int)x[q]);
        for (int64_t c = 0; c < count; ++c)
            acc[c] = _mm512_dpbf16_ps(acc[c], xq, (__m512bh)_mm512_loadu_si512(panels + c * panel_words + q * MLP_BF16_PANEL));
    }
    for (int64_t c = 0; c < count; ++c) {
        const int64_t w = n - 16 * c < 16 ? n - 16 * c : 16;
        _mm512_mask_storeu_ps(out + 16 * c, (__mmask16)((1u << w) - 1u), _mm512_mul_ps(_mm512_set1_ps(1.0f), acc[c]));
    }
}

void mlp_bf16_gemv_avx512(int64_t q_count, const uint32_t *x, const uint32_t *panels, int64_t panel_words, int64_t n,
                          float *out)
{
    for (int64_t j = 0; j < n; j += 256) /* 16 panels (16 accumulators) at a time */
        gemv_group(q_count, x, panels + (j / 16) * panel_words, panel_words, n - j < 256 ? n - j : 256, out + j);
}
