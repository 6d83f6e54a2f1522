#include "loss.h"

#include <math.h>

#include "errors.h"
#include "kernels.h"
#include "mlnetmlp.h"
#include "portable_math.h"

int32_t mlp_loss_check_outputs(int32_t loss, int64_t cols)
{
    switch (loss) {
    case MLP_LOSS_SOFTMAX_CROSS_ENTROPY:
        MLP_CHECK(cols >= 2, "softmax cross-entropy needs at least 2 outputs (classes), got %lld", (long long)cols);
        return MLP_OK;
    case MLP_LOSS_SIGMOID_LOG_LOSS:
    case MLP_LOSS_HINGE:
        MLP_CHECK(cols == 1, "binary losses need exactly 1 output, got %lld", (long long)cols);
        return MLP_OK;
    case MLP_LOSS_SQUARED:
    case MLP_LOSS_HUBER:
        MLP_CHECK(cols >= 1, "regression losses need at least 1 output");
        return MLP_OK;
    default:
        return mlp_fail(MLP_ERR_INVALID_ARGUMENT, "unknown loss %d", (int)loss);
    }
}

/* The exps of a softmax are computed for many rows at once: one row's chain (max, exps, sum, log) is latency-bound,
 * while the exps of a whole chunk of rows fill the vector lanes. EXP_CHUNK doubles of logits per chunk; a row wider
 * than that has its exps computed alone, EXP_CHUNK at a time. */
#define EXP_CHUNK MLP_EXP_CHUNK

static float row_max(int64_t cols, const float *z, int64_t *argmax)
{
    float zmax = z[0];
    *argmax = 0;
    for (int64_t j = 1; j < cols; ++j)
        if (z[j] > zmax) { zmax = z[j]; *argmax = j; }
    return zmax;
}

void mlp_shifted_exps(int64_t n, const float *z, float zmax, double *e)
{
    double shifted[EXP_CHUNK];
    for (int64_t j = 0; j < n; ++j) shifted[j] = (double)(z[j] - zmax);
    mlp_kernels_get()->exp_nonpositive(n, shifted, e);
}

/* Cross-entropy against the smoothed target q = (1 - eps) onehot + eps / K:
 * log(sum(exp(z))) - sum_j q_j z_j with max-shift; grad = (softmax - q) * scale. exps: the row's exp(z - max)
 * (NULL: computed here). */
static float softmax_cross_entropy(int64_t cols, const float *z, const double *exps, int32_t label, float eps,
                                   float scale, float *grad, int *correct)
{
    int64_t argmax;
    const float zmax = row_max(cols, z, &argmax);
    /* one float exp per logit (kept in grad until the sum is known), summed in double */
    double sum = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += EXP_CHUNK) {
        const int64_t n = cols - j0 < EXP_CHUNK ? cols - j0 : EXP_CHUNK;
        double own[EXP_CHUNK];
        const double *e = exps ? exps + j0 : own;
        if (!exps) mlp_shifted_exps(n, z + j0, zmax, own);
        for (int64_t j = 0; j < n; ++j) {
            const float ef = (float)e[j];
            if (grad) grad[j0 + j] = ef;
            sum += ef;
        }
    }
    *correct = argmax == label;
    const double off = (double)eps / (double)cols, on = 1.0 - (double)eps + off;
    if (grad) {
        const double inv = 1.0 / sum;
        for (int64_t j = 0; j < cols; ++j)
            grad[j] = (float)((double)grad[j] * inv - (j == label ? on : off)) * scale;
    }
    if (eps == 0.0f)
        return (float)(mlp_log(sum) - (double)(z[label] - zmax));
    double mean_shifted = 0.0; /* sum_j q_j (z_j - zmax) */
    for (int64_t j = 0; j < cols; ++j) mean_shifted += (j == label ? on : off) * (double)(z[j] - zmax);
    return (float)(mlp_log(sum) - mean_shifted);
}

static float sigmoid_log_loss(float z, float y, float scale, float *grad, int *correct)
{
    *correct = (z > 0.0f) == (y > 0.5f);
    if (grad) {
        const float p = z >= 0.0f ? 1.0f / (1.0f + mlp_expf(-z)) : mlp_expf(z) / (1.0f + mlp_expf(z));
        *grad = (p - y) * scale;
    }
    /* log(1 + exp(z)) - y z, written so that exp never overflows. */
    return fmaxf(z, 0.0f) - y * z + (float)mlp_log1p(mlp_exp(-fabsf(z)));
}

static float hinge(float z, float y, float scale, float *grad, int *correct)
{
    const float t = y > 0.5f ? 1.0f : -1.0f;
    *correct = (z > 0.0f) == (y > 0.5f);
    const float margin = 1.0f - t * z;
    if (grad) *grad = margin > 0.0f ? -t * scale : 0.0f;
    return margin > 0.0f ? margin : 0.0f;
}

int32_t mlp_loss_check_label(int32_t label, int64_t example, int64_t classes)
{
    MLP_CHECK(label >= 0 && label < classes, "label %d of row %lld is outside [0, %lld)", (int)label,
              (long long)example, (long long)classes);
    return MLP_OK;
}

/* Row r: its gradient (when wanted) and *out = its weighted loss, metric and weight. */
static int32_t row_loss(const mlp_loss_batch *b, int64_t r, const double *exps, mlp_loss_sums *out)
{
    const int64_t ex = b->row_index ? b->row_index[r] : r;
    const float w = b->weights ? b->weights[ex] : 1.0f;
    const float scale = w * b->grad_scale;
    const float *z = b->z + r * b->ldz;
    float *g = b->grad ? b->grad + r * b->ldg : NULL;
    float loss = 0.0f;
    int correct = 0;
    double metric = 0.0;
    switch (b->loss) {
    case MLP_LOSS_SOFTMAX_CROSS_ENTROPY: {
        const int32_t label = b->labels[ex], status = mlp_loss_check_label(label, ex, b->cols);
        if (status != MLP_OK)
            return status;
        loss = softmax_cross_entropy(b->cols, z, exps, label, b->smoothing, scale, g, &correct);
        metric = correct ? w : 0.0;
        break;
    }
    case MLP_LOSS_SIGMOID_LOG_LOSS: /* smoothed target (1 - eps) y + eps / 2 */
        loss = sigmoid_log_loss(z[0], b->targets[ex] * (1.0f - b->smoothing) + 0.5f * b->smoothing, scale, g, &correct);
        metric = correct ? w : 0.0;
        break;
    case MLP_LOSS_HINGE:
        loss = hinge(z[0], b->targets[ex], scale, g, &correct);
        metric = correct ? w : 0.0;
        break;
    default: { /* squared: 0.5 d^2 per output; Huber: the same up to |d| = 1, then linear; metric = d^2 */
        const float *y = b->targets + ex * b->cols;
        const int huber = b->loss == MLP_LOSS_HUBER;
        double sq = 0.0, value = 0.0;
        for (int64_t j = 0; j < b->cols; ++j) {
            const float d = z[j] - y[j];
            const int linear = huber && fabsf(d) > 1.0f;
            if (g) g[j] = (linear ? (d > 0.0f ? 1.0f : -1.0f) : d) * scale;
            sq += (double)d * d;
            value += linear ? fabs((double)d) - 0.5 : 0.5 * (double)d * d;
        }
        loss = (float)value;
        metric = w * sq;
        break;
    }
    }
    out->loss = (double)w * loss;
    out->metric = metric;
    out->weight = w;
    return MLP_OK;
}

static void add_sums(mlp_loss_sums *to, const mlp_loss_sums *x)
{
    to->loss += x->loss;
    to->metric += x->metric;
    to->weight += x->weight;
}

void mlp_loss_total(const mlp_loss_sums *per_row, int64_t rows, mlp_loss_sums *sums)
{
    mlp_loss_sums batch = {0, 0, 0};
    for (int64_t r = 0; r < rows; ++r) add_sums(&batch, per_row + r);
    add_sums(sums, &batch);
}

/* Rows [r0, r1): each row's sums into per_row[r] and/or added to *total in row order. Softmax rows narrower than
 * EXP_CHUNK get their exps a chunk of rows at a time. */
static int32_t loss_rows(const mlp_loss_batch *b, int64_t r0, int64_t r1, mlp_loss_sums *per_row, mlp_loss_sums *total)
{
    const int chunked = b->loss == MLP_LOSS_SOFTMAX_CROSS_ENTROPY && b->cols <= EXP_CHUNK;
    const int64_t chunk_rows = chunked ? EXP_CHUNK / b->cols : 1;
    const mlp_kernels *kern = chunked ? mlp_kernels_get() : NULL;
    double exps[EXP_CHUNK];
    for (int64_t c0 = r0; c0 < r1; c0 += chunk_rows) {
        const int64_t c1 = c0 + chunk_rows < r1 ? c0 + chunk_rows : r1;
        if (chunked) {
            double shifted[EXP_CHUNK];
            for (int64_t r = c0; r < c1; ++r) {
                const float *z = b->z + r * b->ldz;
                int64_t argmax;
                const float zmax = row_max(b->cols, z, &argmax);
                for (int64_t j = 0; j < b->cols; ++j) shifted[(r - c0) * b->cols + j] = (double)(z[j] - zmax);
            }
            kern->exp_nonpositive((c1 - c0) * b->cols, shifted, exps);
        }
        for (int64_t r = c0; r < c1; ++r) {
            mlp_loss_sums row;
            const int32_t status = row_loss(b, r, chunked ? exps + (r - c0) * b->cols : NULL, &row);
            if (status != MLP_OK)
                return status;
            if (per_row) per_row[r] = row;
            if (total) add_sums(total, &row);
        }
    }
    return MLP_OK;
}

int32_t mlp_loss_rows(const mlp_loss_batch *b, int64_t r0, int64_t r1, mlp_loss_sums *per_row)
{
    return loss_rows(b, r0, r1, per_row, NULL);
}

int32_t mlp_loss_run(const mlp_loss_batch *b, mlp_loss_sums *sums)
{
    mlp_loss_sums batch = {0, 0, 0};
    const int32_t status = loss_rows(b, 0, b->rows, NULL, &batch);
    if (status != MLP_OK)
        return status;
    add_sums(sums, &batch);
    return MLP_OK;
}
