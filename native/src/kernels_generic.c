/* Portable kernels: plain C that any compiler vectorises for its baseline ISA (SSE2, NEON). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "dropout.h"
#include "kernels.h"
#include "mlnetmlp.h"
#include "portable_math.h"

/* The GEMM's multiply-add: fused where the baseline ISA has FMA (ARM64: NEON fmla, which the compiler vectorises
 * fmaf into), a multiply and an add elsewhere (x86-64's baseline SSE2 would call a slow libm fmaf). */
#if defined(__aarch64__) || defined(__FMA__)
#  define MLP_MADD(a, b, c) fmaf((a), (b), (c))
#else
#  define MLP_MADD(a, b, c) ((c) + (a) * (b))
#endif

float mlp_activation_scalar(int32_t act, float x)
{
    switch (act) {
    case MLP_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case MLP_ACT_LEAKY_RELU: return x > 0.0f ? x : MLP_LEAKY_RELU_SLOPE * x;
    case MLP_ACT_TANH: return mlp_tanhf(x);
    case MLP_ACT_SIGMOID: return 1.0f / (1.0f + mlp_expf(-x));
    case MLP_ACT_SELU: return x > 0.0f ? MLP_SELU_SCALE * x : MLP_SELU_SCALE_ALPHA * (mlp_expf(x) - 1.0f);
    default: return x;
    }
}

float mlp_activation_derivative_scalar(int32_t act, float h)
{
    switch (act) {
    case MLP_ACT_RELU: return h > 0.0f ? 1.0f : 0.0f;
    case MLP_ACT_LEAKY_RELU: return h > 0.0f ? 1.0f : MLP_LEAKY_RELU_SLOPE;
    case MLP_ACT_TANH: return 1.0f - h * h;
    case MLP_ACT_SIGMOID: return h * (1.0f - h);
    /* from the output: l a e^x = h + l a on the negative side */
    case MLP_ACT_SELU: return h > 0.0f ? MLP_SELU_SCALE : h + MLP_SELU_SCALE_ALPHA;
    default: return 1.0f;
    }
}

/* c = alpha * acc (+ beta * c) for the r < mr, j < nr part of a tile. */
static void store_tile_generic(const float acc[MLP_MR][MLP_NR], float *restrict c, int64_t ldc, float alpha, float beta,
                               int64_t mr, int64_t nr)
{
    for (int64_t r = 0; r < mr; ++r) {
        float *cr = c + r * ldc;
        if (beta == 0.0f)
            for (int64_t j = 0; j < nr; ++j) cr[j] = alpha * acc[r][j];
        else
            for (int64_t j = 0; j < nr; ++j) cr[j] = alpha * acc[r][j] + beta * cr[j];
    }
}

static void gemm_micro_generic(int64_t k, const float *restrict a, const float *restrict b,
                               float *restrict c, int64_t ldc, float alpha, float beta, int64_t mr, int64_t nr)
{
    /* A row of the tile at a time: its NR sums stay in registers across k (the whole 6 x 16 tile would spill),
     * and every sum still adds its k products in order. */
    float acc[MLP_MR][MLP_NR];
    for (int r = 0; r < MLP_MR; ++r) {
        float sum[MLP_NR] = {0};
        for (int64_t p = 0; p < k; ++p) {
            const float ar = a[p * MLP_MR + r];
            const float *bp = b + p * MLP_NR;
            for (int j = 0; j < MLP_NR; ++j)
                sum[j] = MLP_MADD(ar, bp[j], sum[j]);
        }
        memcpy(acc[r], sum, sizeof sum);
    }
    store_tile_generic((const float (*)[MLP_NR])acc, c, ldc, alpha, beta, mr, nr);
}

static void gemm_micro_unpacked_a_generic(int64_t k, const float *restrict a, int64_t rs_a, int64_t cs_a,
                                          const float *restrict b, float *restrict c, int64_t ldc, float alpha,
                                          float beta, int64_t mr, int64_t nr)
{
    float acc[MLP_MR][MLP_NR];
    for (int64_t r = 0; r < mr; ++r) {
        float sum[MLP_NR] = {0};
        for (int64_t p = 0; p < k; ++p) {
            const float ar = a[r * rs_a + p * cs_a];
            const float *bp = b + p * MLP_NR;
            for (int j = 0; j < MLP_NR; ++j)
                sum[j] = MLP_MADD(ar, bp[j], sum[j]);
        }
        memcpy(acc[r], sum, sizeof sum);
    }
    store_tile_generic((const float (*)[MLP_NR])acc, c, ldc, alpha, beta, mr, nr);
}

static void gemv_generic(int64_t k, const float *restrict a, int64_t inc_a, const float *restrict b, int64_t ldb,
                         int64_t n, float *restrict acc)
{
    enum { BLOCK = 16 };
    for (int64_t j0 = 0; j0 < n; j0 += BLOCK) {
        const int64_t w = n - j0 < BLOCK ? n - j0 : BLOCK;
        float sum[BLOCK] = {0};
        for (int64_t p = 0; p < k; ++p) {
            const float ap = a[p * inc_a];
            const float *bp = b + p * ldb + j0;
            for (int64_t j = 0; j < w; ++j) sum[j] = MLP_MADD(ap, bp[j], sum[j]);
        }
        memcpy(acc + j0, sum, (size_t)w * sizeof(float));
    }
}

static void bias_activation_generic(int32_t act, int64_t n, const float *restrict bias, float *restrict x)
{
    if (bias)
        for (int64_t j = 0; j < n; ++j) x[j] += bias[j];
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_RELU:
        for (int64_t j = 0; j < n; ++j) x[j] = x[j] > 0.0f ? x[j] : 0.0f;
        break;
    default:
        for (int64_t j = 0; j < n; ++j) x[j] = mlp_activation_scalar(act, x[j]);
        break;
    }
}

static void activation_backward_generic(int32_t act, int64_t n, const float *restrict h, float *restrict g)
{
    switch (act) {
    case MLP_ACT_IDENTITY: break;
    case MLP_ACT_RELU:
        for (int64_t j = 0; j < n; ++j) g[j] = h[j] > 0.0f ? g[j] : 0.0f;
        break;
    case MLP_ACT_TANH:
        for (int64_t j = 0; j < n; ++j) g[j] *= 1.0f - h[j] * h[j];
        break;
    case MLP_ACT_SIGMOID:
        for (int64_t j = 0; j < n; ++j) g[j] *= h[j] * (1.0f - h[j]);
        break;
    default:
        for (int64_t j = 0; j < n; ++j) g[j] *= mlp_activation_derivative_scalar(act, h[j]);
        break;
    }
}

static void dropout_forward_generic(int64_t n, float *restrict h, uint32_t key, uint32_t threshold, float scale)
{
    for (int64_t j = 0; j < n; ++j)
        h[j] = mlp_hash32(key + (uint32_t)j * MLP_DROPOUT_GOLDEN) >= threshold ? h[j] * scale : 0.0f;
}

static void dropout_backward_generic(int32_t act, int64_t n, const float *restrict h, float *restrict g, uint32_t key,
                                     uint32_t threshold, float keep)
{
    const float scale = 1.0f / keep;
    for (int64_t j = 0; j < n; ++j)
        g[j] = mlp_hash32(key + (uint32_t)j * MLP_DROPOUT_GOLDEN) >= threshold
                   ? g[j] * scale * mlp_activation_derivative_scalar(act, h[j] * keep)
                   : 0.0f;
}

static void accumulate_generic(int64_t n, const float *restrict x, float *restrict sum)
{
    for (int64_t j = 0; j < n; ++j) sum[j] += x[j];
}

/* A moment below the smallest normal float is zero from then on: one that decays (its gradient has become zero)
 * would otherwise go through ~150 subnormal steps, and subnormal arithmetic is many times slower on x86 (two
 * epochs of a 784-256-128-10 net left half its Adam moments subnormal: 3-10% per epoch). The step it would
 * have made is below 1e-30 * learning rate. */
static float flush_tiny(float x) { return fabsf(x) < FLT_MIN ? 0.0f : x; } /* (NaN stays NaN) */

static void axpy_generic(int64_t n, float a, const float *restrict x, float *restrict y)
{
    for (int64_t j = 0; j < n; ++j) y[j] = MLP_MADD(a, x[j], y[j]);
}

static void sgd_update_generic(int64_t n, float *restrict w, const float *restrict g, float *restrict velocity,
                               float lr, float momentum, int32_t nesterov, float l2, float decay)
{
    if (momentum == 0.0f) {
        for (int64_t j = 0; j < n; ++j) {
            const float grad = g[j] + l2 * w[j];
            w[j] -= decay * w[j];
            w[j] -= lr * grad;
        }
        return;
    }
    for (int64_t j = 0; j < n; ++j) {
        const float grad = g[j] + l2 * w[j];
        w[j] -= decay * w[j];
        const float vel = flush_tiny(momentum * velocity[j] - lr * grad);
        velocity[j] = vel;
        /* Nesterov in the form used by Keras/scikit-learn: look ahead along the new velocity. */
        w[j] += nesterov ? momentum * vel - lr * grad : vel;
    }
}

static void adam_update_generic(int64_t n, float *restrict w, const float *restrict g, float *restrict m,
                                float *restrict v, float step_size, float beta1, float beta2,
                                float epsilon, float l2, float decay)
{
    for (int64_t j = 0; j < n; ++j) {
        const float grad = g[j] + l2 * w[j];
        w[j] -= decay * w[j];
        const float mj = flush_tiny(beta1 * m[j] + (1.0f - beta1) * grad);
        const float vj = flush_tiny(beta2 * v[j] + (1.0f - beta2) * grad * grad);
        m[j] = mj;
        v[j] = vj;
        w[j] -= step_size * mj / (sqrtf(vj) + epsilon);
    }
}

static void exp_nonpositive_generic(int64_t n, const double *x, double *out)
{
    for (int64_t j = 0; j < n; ++j) out[j] = x[j] > 0.0 ? NAN : mlp_exp(x[j]); /* (x > 0: outside the contract) */
}

static double scale_and_dot_generic(int64_t n, float s, const float *restrict p, const float *restrict a, float *restrict y)
{
    double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    for (int64_t j = 0; j < n; ++j) {
        y[j] = s * p[j];
        acc[j & 7] += (double)a[j] * (double)p[j];
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void scale_generic(int64_t n, float a, const float *restrict x, float *restrict y)
{
    for (int64_t j = 0; j < n; ++j) y[j] = a * x[j];
}

const mlp_kernels mlp_kernels_generic = {
    "generic",
    gemm_micro_generic,
    gemm_micro_unpacked_a_generic,
    NULL, /* no thin kernel: the unpacked-A micro-kernel serves */
    NULL,
    mlp_pack_a_generic,
    mlp_pack_b_generic,
    gemv_generic,
    bias_activation_generic,
    activation_backward_generic,
    dropout_forward_generic,
    dropout_backward_generic,
    accumulate_generic,
    axpy_generic,
    sgd_update_generic,
    adam_update_generic,
    NULL, /* no wide tiles */
    NULL,
    exp_nonpositive_generic,
    scale_and_dot_generic,
    scale_generic,
};
