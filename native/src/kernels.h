/* The per-ISA kernel table. Each ISA file fills one const table; dispatch.c picks one at first use. */
#ifndef MLP_KERNELS_H
#define MLP_KERNELS_H

#include <stdint.h>

/* GEMM register block: every ISA packs A into MLP_MR-row and B into MLP_NR-column micro-panels,
 * so the packing code and the blocking constants are shared. */
#define MLP_MR 6
#define MLP_NR 16
/* The thin-B kernel: at most this many columns (one accumulator each). */
#define MLP_THIN_N 12
#define MLP_THIN_M 16

#define MLP_LEAKY_RELU_SLOPE 0.01f
/* SELU's constants (lambda, and lambda * alpha), to float precision. */
#define MLP_SELU_SCALE 1.05070098735548049342f
#define MLP_SELU_SCALE_ALPHA 1.75809934084737685994f

typedef struct mlp_kernels {
    const char *name;
    /* c[r, j] = alpha * sum_p a[p*MR + r] * b[p*NR + j] + beta * c[r, j] for r < mr <= MR, j < nr <= NR;
     * nothing outside that tile is touched, and beta == 0 never reads c. */
    void (*gemm_micro)(int64_t k, const float *a, const float *b, float *c, int64_t ldc, float alpha,
                       float beta, int64_t mr, int64_t nr);
    /* The same tile with A read in place: op(A)(r, p) = a[r * rs_a + p * cs_a] for r < mr (rows past mr are
     * never read). Used when every element of A meets only one column panel of B, so packing would not pay. */
    void (*gemm_micro_unpacked_a)(int64_t k, const float *a, int64_t rs_a, int64_t cs_a, const float *b, float *c,
                                  int64_t ldc, float alpha, float beta, int64_t mr, int64_t nr);
    /* Thin B (at most MLP_THIN_N columns): vectorized along the rows instead, MLP_THIN_M rows x n columns with
     * accumulators per column, so no lane is wasted on padding. Row r of op(A) at step p is a[p * a_stride + r]
     * (consecutive rows; rows past mr <= MLP_THIN_M are never read); B is a packed NR panel. Same values, same
     * multiply-add order per element as the micro-kernels. NULL in kernel sets without it. */
    void (*gemm_thin)(int64_t k, const float *a, int64_t a_stride, int64_t mr, const float *b, int64_t n, float *c,
                      int64_t ldc, float alpha, float beta);
    /* MLP_THIN_M rows of op(A) with a row-major source (rows lda apart) into dst[p * MLP_THIN_M + r] for the thin
     * kernel (zero past `rows`). */
    void (*pack_rows_thin)(const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst);
    /* One MR-row micro-panel of op(A): dst[p * MR + r] = op(A)(r, p) for r < rows (zero above), p < kc;
     * op(A)(r, p) is a[r * lda + p], or a[p * lda + r] when trans. */
    void (*pack_a)(int32_t trans, const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst);
    /* One NR-column micro-panel of op(B): dst[p * NR + j] = op(B)(p, j) for j < cols (zero above), p < kc;
     * op(B)(p, j) is b[p * ldb + j], or b[j * ldb + p] when trans. dst is 64-byte aligned. */
    void (*pack_b)(int32_t trans, const float *b, int64_t ldb, int64_t cols, int64_t kc, float *dst);
    /* acc[j] = sum_{p < k} a[p * inc_a] * b[p * ldb + j] for j < n, accumulated with one multiply-add per p in
     * increasing p from 0, exactly as the micro-kernels do (the few-rows GEMM path: scoring one row). */
    void (*gemv)(int64_t k, const float *a, int64_t inc_a, const float *b, int64_t ldb, int64_t n, float *acc);
    /* x[j] = act(x[j] + bias[j]) (bias may be NULL) */
    void (*bias_activation)(int32_t act, int64_t n, const float *bias, float *x);
    /* g[j] *= act'(given the activation's output h[j]) */
    void (*activation_backward)(int32_t act, int64_t n, const float *h, float *g);
    /* Inverted dropout of one row: h[j] = kept(j) ? h[j] * scale : 0, kept(j) = mlp_hash32(key + j * golden) >= threshold. */
    void (*dropout_forward)(int64_t n, float *h, uint32_t key, uint32_t threshold, float scale);
    /* Its backward fused with the activation's, given the dropped output h:
     * g[j] = kept(j) ? g[j] / keep * act'(h[j] * keep) : 0. */
    void (*dropout_backward)(int32_t act, int64_t n, const float *h, float *g, uint32_t key, uint32_t threshold, float keep);
    /* sum[j] += x[j] */
    void (*accumulate)(int64_t n, const float *x, float *sum);
    /* y[j] += a * x[j] (the sparse first layer: one nonzero times a weight row) */
    void (*axpy)(int64_t n, float a, const float *x, float *y);
    /* SGD with optional (Nesterov) momentum; l2 adds l2*w to the gradient, decay shrinks w by w * decay first
     * (decoupled). velocity may be NULL when momentum == 0. */
    void (*sgd_update)(int64_t n, float *w, const float *g, float *velocity, float lr, float momentum,
                       int32_t nesterov, float l2, float decay);
    /* Adam; step_size already includes the bias corrections. l2 is added to the gradient (coupled);
     * decay shrinks w by w * decay before the step (decoupled, AdamW: decay = lr * weight decay). */
    void (*adam_update)(int64_t n, float *w, const float *g, float *m, float *v, float step_size,
                        float beta1, float beta2, float epsilon, float l2, float decay);
    /* A wide tile: MR rows x MLP_WIDE_PANELS full B panels, op(A)(r, p) = a_rows[r][p * cs_a] (a packed panel:
     * a_rows[r] = panel + r, cs_a = MR; or A read in place, the caller pointing rows past mr at an existing row),
     * step p of B panel q at b + q * panel_stride + p * row_stride (packed panels, or B's own rows read in place);
     * rows r < mr stored; the same values and multiply-add order per element as gemm_micro. NULL in kernel sets
     * without it. */
    void (*gemm_micro_wide)(int64_t k, const float *const a_rows[MLP_MR], int64_t cs_a, const float *b,
                            int64_t panel_stride, int64_t row_stride, float *c, int64_t ldc, float alpha, float beta,
                            int64_t mr);
    /* The same tile with op(A)(r, p) = a_columns[p][a_offset + r] (A transposed, its rows given one by one: the
     * minibatch's rows of a dataset by index); rows past mr read a_offset. NULL in kernel sets without it. */
    void (*gemm_micro_wide_columns)(int64_t k, const float *const *a_columns, int64_t a_offset, const float *b,
                                    int64_t panel_stride, int64_t row_stride, float *c, int64_t ldc, float alpha,
                                    float beta, int64_t mr);
    /* out[j] = e^x[j] for x[j] <= 0 (a softmax's shifted logits; NaN for NaN and for x > 0), exactly mlp_exp's
     * bits in every set (in vector lanes where the set has them). */
    void (*exp_nonpositive)(int64_t n, const double *x, double *out);
    /* The input scale's row (training_step.c): y[j] = s * p[j], and returns sum_j a[j] p[j] in double (each product
     * exact) as 8 striped sums, stripe i over j = i mod 8, added up as ((0+1)+(2+3))+((4+5)+(6+7)): the same bits in
     * every set. */
    double (*scale_and_dot)(int64_t n, float s, const float *p, const float *a, float *y);
    /* y[j] = a * x[j] */
    void (*scale)(int64_t n, float a, const float *x, float *y);
} mlp_kernels;

#define MLP_WIDE_PANELS 4

extern const mlp_kernels mlp_kernels_generic;
#if defined(__x86_64__) || defined(_M_X64)
#  define MLP_HAVE_AVX2_KERNELS 1
extern const mlp_kernels mlp_kernels_avx2;
#endif
#if defined(MLP_HAVE_AVX2_KERNELS) && (defined(__GNUC__) || defined(__clang__))
#  define MLP_HAVE_AVX512_KERNELS 1
/* The AVX-512 set is the AVX2 one plus these wide tiles (dispatch.c builds it once). */
void mlp_gemm_micro_wide_avx512(int64_t k, const float *const a_rows[MLP_MR], int64_t cs_a, const float *b,
                                int64_t panel_stride, int64_t row_stride, float *c, int64_t ldc, float alpha, float beta,
                                int64_t mr);
void mlp_gemm_micro_wide_columns_avx512(int64_t k, const float *const *a_columns, int64_t a_offset, const float *b,
                                        int64_t panel_stride, int64_t row_stride, float *c, int64_t ldc, float alpha,
                                        float beta, int64_t mr);
#endif

#if defined(MLP_HAVE_AVX2_KERNELS)
/* The thin kernel's store, shared by the AVX2 and AVX-512 thin kernels: c[r, j] = alpha * acc[j][r] (+ beta * c)
 * for r < mr, j < n, with the 6x16 kernel's arithmetic. */
void mlp_thin_store_avx2(float acc[][MLP_THIN_M], int64_t mr, int64_t n, float *c, int64_t ldc, float alpha, float beta);
/* The AVX2 set's bias + activation (the AVX-512 one hands it the last n % 16 elements). */
void mlp_bias_activation_avx2(int32_t act, int64_t n, const float *bias, float *x);
/* The AVX2 set's Adam update (the AVX-512 one hands it the last n % 16 elements). */
void mlp_adam_update_avx2(int64_t n, float *w, const float *g, float *m, float *v, float step_size, float beta1,
                          float beta2, float epsilon, float l2, float decay);
#endif
#if defined(MLP_HAVE_AVX512_KERNELS)
/* The thin kernel with the 16 rows in one zmm (one multiply-add per broadcast of B, all columns at once). */
void mlp_gemm_thin_avx512(int64_t k, const float *a, int64_t a_stride, int64_t mr, const float *b, int64_t n, float *c,
                          int64_t ldc, float alpha, float beta);
/* Bias + activation on zmm: the AVX2 kernel's arithmetic (its exp included) element by element, 16 lanes at a time. */
void mlp_bias_activation_avx512(int32_t act, int64_t n, const float *bias, float *x);
/* Adam on zmm: the AVX2 update's arithmetic element by element (bit-identical), 16 lanes at a time. */
void mlp_adam_update_avx512(int64_t n, float *w, const float *g, float *m, float *v, float step_size, float beta1,
                            float beta2, float epsilon, float l2, float decay);
#endif

/* The table chosen for this process (cpuid + xgetbv, MLNETMLP_ISA override), initialised once. */
const mlp_kernels *mlp_kernels_get(void);

void mlp_pack_a_generic(int32_t trans, const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst);
void mlp_pack_b_generic(int32_t trans, const float *b, int64_t ldb, int64_t cols, int64_t kc, float *dst);
#if defined(MLP_HAVE_AVX2_KERNELS)
void mlp_pack_a_avx2(int32_t trans, const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst);
void mlp_pack_rows_thin_avx2(const float *a, int64_t lda, int64_t rows, int64_t kc, float *dst);
void mlp_pack_b_avx2(int32_t trans, const float *b, int64_t ldb, int64_t cols, int64_t kc, float *dst);
#endif

/* Scalar activations shared by every ISA for edge elements. */
float mlp_activation_scalar(int32_t act, float x);
float mlp_activation_derivative_scalar(int32_t act, float h);

#endif
