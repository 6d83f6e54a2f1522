#include "loss.h"

#include <math.h>

#include "errors.h"
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

/* Cross-entropy against the smoothed target q = (1 - eps) onehot + eps / K:
 * log(sum(exp(z))) - sum_j q_j z_j with max-shift; grad = (softmax - q) * scale. */
static float softmax_cross_entropy(int64_t cols, const float *z, int32_t label, float eps, float scale, float *grad,
                                   int *correct)
{
    float zmax = z[0];
    int64_t argmax = 0;
    for (int64_t j = 1; j < cols; ++j)
        if (z[j] > zmax) { zmax = z[j]; argmax = j; }
    /* one float exp per logit (kept in grad until the sum is known), summed in double */
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
        const float e = mlp_expf(z[j] - zmax);
        if (grad) grad[j] = e;
        sum += e;
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
static int32_t row_loss(const mlp_loss_batch *b, int64_t r, mlp_loss_sums *out)
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
        loss = softmax_cross_entropy(b->cols, z, label, b->smoothing, scale, g, &correct);
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

int32_t mlp_loss_rows(const mlp_loss_batch *b, int64_t r0, int64_t r1, mlp_loss_sums *per_row)
{
    for (int64_t r = r0; r < r1; ++r) {
        const int32_t status = row_loss(b, r, per_row + r);
        if (status != MLP_OK)
            return status;
    }
    return MLP_OK;
}

int32_t mlp_loss_run(const mlp_loss_batch *b, mlp_loss_sums *sums)
{
    mlp_loss_sums batch = {0, 0, 0};
    for (int64_t r = 0; r < b->rows; ++r) {
        mlp_loss_sums row;
        const int32_t status = row_loss(b, r, &row);
        if (status != MLP_OK)
            return status;
        add_sums(&batch, &row);
    }
    add_sums(sums, &batch);
    return MLP_OK;
}
