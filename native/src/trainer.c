/* Minibatch training: forward, fused loss, backward and optimizer update in one call. */
#include <math.h>
#include <string.h>

#include "errors.h"
#include "gemm.h"
#include "loss.h"
#include "memory.h"
#include "network.h"
#include "threads.h"

struct mlp_trainer {
    mlp_network *net;
    mlp_train_config config;
    int threads;
    int64_t max_batch;
    int64_t step_count;          /* Adam's t */
    float *grads;                /* same layout as net->params */
    float *moment1, *moment2;    /* Adam m, v; SGD velocity in moment1 */
    float *x_batch;              /* gathered inputs, max_batch x sizes[0] */
    float *acts[MLP_MAX_LAYERS]; /* layer outputs, max_batch x sizes[l + 1] */
    float *delta[2];             /* backprop buffers, max_batch x widest layer */
    float *gemm_ws;
};

static void trainer_free(mlp_trainer *t)
{
    if (!t) return;
    mlp_free(t->grads);
    mlp_free(t->moment1);
    mlp_free(t->moment2);
    mlp_free(t->x_batch);
    for (int32_t l = 0; l < MLP_MAX_LAYERS; ++l) mlp_free(t->acts[l]);
    mlp_free(t->delta[0]);
    mlp_free(t->delta[1]);
    mlp_free(t->gemm_ws);
    free(t);
}

static int32_t check_config(const mlp_train_config *c)
{
    MLP_CHECK(c->struct_size == (int32_t)sizeof(mlp_train_config),
              "mlp_train_config.struct_size is %d but this library expects %d (mismatched header/library)",
              (int)c->struct_size, (int)sizeof(mlp_train_config));
    MLP_CHECK(c->optimizer == MLP_OPT_SGD || c->optimizer == MLP_OPT_ADAM, "unknown optimizer %d", (int)c->optimizer);
    MLP_CHECK(isfinite(c->learning_rate) && c->learning_rate > 0.0f, "learning_rate must be finite and > 0, got %g",
              (double)c->learning_rate);
    MLP_CHECK(c->momentum >= 0.0f && c->momentum < 1.0f, "momentum must be in [0, 1), got %g", (double)c->momentum);
    MLP_CHECK(c->nesterov == 0 || c->nesterov == 1, "nesterov must be 0 or 1");
    MLP_CHECK(c->beta1 >= 0.0f && c->beta1 < 1.0f, "beta1 must be in [0, 1), got %g", (double)c->beta1);
    MLP_CHECK(c->beta2 >= 0.0f && c->beta2 < 1.0f, "beta2 must be in [0, 1), got %g", (double)c->beta2);
    MLP_CHECK(isfinite(c->epsilon) && c->epsilon > 0.0f, "epsilon must be finite and > 0, got %g", (double)c->epsilon);
    MLP_CHECK(isfinite(c->l2) && c->l2 >= 0.0f, "l2 must be finite and >= 0, got %g", (double)c->l2);
    MLP_CHECK(c->max_batch_rows >= 1 && c->max_batch_rows <= (1 << 20), "max_batch_rows must be in [1, 2^20], got %d",
              (int)c->max_batch_rows);
    MLP_CHECK(c->num_threads >= 0 && c->num_threads <= MLP_MAX_THREADS, "num_threads must be in [0, %d], got %d",
              MLP_MAX_THREADS, (int)c->num_threads);
    return MLP_OK;
}

static int64_t trainer_gemm_floats(const mlp_network *net, int64_t b)
{
    int64_t most = 0;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        const int64_t in = net->sizes[l], out = net->sizes[l + 1];
        const int64_t shapes[3][3] = {{b, out, in}, {in, out, b}, {b, in, out}};
        for (int s = 0; s < 3; ++s) {
            const int64_t w = mlp_gemm_workspace_floats(shapes[s][0], shapes[s][1], shapes[s][2]);
            if (w > most) most = w;
        }
    }
    return most;
}

MLP_API int32_t mlp_trainer_create(mlp_network *net, const mlp_train_config *config, mlp_trainer **out)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(out);
    *out = NULL;
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK_NOT_NULL(config);
    int32_t status = check_config(config);
    if (status != MLP_OK) return status;

    mlp_trainer *t = calloc(1, sizeof *t);
    if (!t) return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating a trainer");
    t->net = net;
    t->config = *config;
    t->threads = mlp_threads_resolve(config->num_threads);
    t->max_batch = config->max_batch_rows;
    const int64_t b = t->max_batch, np = net->parameter_count;
    int64_t widest = 0;
    for (int32_t l = 0; l <= net->num_layers; ++l) widest = net->sizes[l] > widest ? net->sizes[l] : widest;

    int ok = (t->grads = mlp_alloc_floats(np)) != NULL;
    if (config->optimizer == MLP_OPT_ADAM) {
        ok = ok && (t->moment1 = mlp_alloc_floats(np)) && (t->moment2 = mlp_alloc_floats(np));
    } else if (config->momentum > 0.0f) {
        ok = ok && (t->moment1 = mlp_alloc_floats(np));
    }
    ok = ok && (t->x_batch = mlp_alloc_floats(b * net->sizes[0]));
    for (int32_t l = 0; ok && l < net->num_layers; ++l)
        ok = (t->acts[l] = mlp_alloc_floats(b * net->sizes[l + 1])) != NULL;
    ok = ok && (t->delta[0] = mlp_alloc_floats(b * widest)) && (t->delta[1] = mlp_alloc_floats(b * widest));
    ok = ok && (t->gemm_ws = mlp_alloc_floats(trainer_gemm_floats(net, b) * t->threads));
    if (!ok) {
        trainer_free(t);
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating trainer buffers for batches of %lld rows",
                        (long long)b);
    }
    memset(t->grads, 0, (size_t)np * sizeof(float));
    if (t->moment1) memset(t->moment1, 0, (size_t)np * sizeof(float));
    if (t->moment2) memset(t->moment2, 0, (size_t)np * sizeof(float));
    *out = t;
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_destroy(mlp_trainer *trainer)
{
    mlp_clear_error();
    trainer_free(trainer);
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_set_learning_rate(mlp_trainer *trainer, float learning_rate)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(isfinite(learning_rate) && learning_rate > 0.0f, "learning_rate must be finite and > 0, got %g",
              (double)learning_rate);
    trainer->config.learning_rate = learning_rate;
    return MLP_OK;
}

/* ---- the step --------------------------------------------------------------------------------- */

typedef struct batch_data {
    const float *x;
    int64_t ldx, x_rows;
    const int32_t *row_indices;
    const int32_t *labels;
    const float *targets;
    const float *weights;
} batch_data;

static int32_t check_batch_data(const mlp_trainer *t, const batch_data *d, int64_t rows)
{
    const mlp_network *net = t->net;
    MLP_CHECK(d->ldx >= net->sizes[0], "ldx is %lld but the network has %d inputs", (long long)d->ldx, (int)net->sizes[0]);
    MLP_CHECK(d->x_rows >= 0, "x_rows must not be negative");
    MLP_CHECK_NOT_NULL(d->x);
    if (net->loss == MLP_LOSS_SOFTMAX_CROSS_ENTROPY) {
        MLP_CHECK(d->labels != NULL && d->targets == NULL, "softmax cross-entropy takes labels (not targets)");
    } else {
        MLP_CHECK(d->targets != NULL && d->labels == NULL, "this loss takes targets (not labels)");
    }
    if (d->row_indices) {
        for (int64_t r = 0; r < rows; ++r)
            MLP_CHECK(d->row_indices[r] >= 0 && d->row_indices[r] < d->x_rows, "row index %d is outside [0, %lld)",
                      (int)d->row_indices[r], (long long)d->x_rows);
    } else {
        MLP_CHECK(rows <= d->x_rows, "%lld rows requested but x has %lld", (long long)rows, (long long)d->x_rows);
    }
    return MLP_OK;
}

/* Forward pass of `rows` rows starting at batch offset `first`; returns the input actually used. */
static const float *forward(mlp_trainer *t, const batch_data *d, int64_t first, int64_t rows, int64_t *ldin)
{
    const mlp_network *net = t->net;
    const mlp_kernels *kern = mlp_kernels_get();
    const float *h = d->x + first * d->ldx;
    int64_t ldh = d->ldx;
    if (d->row_indices) {
        const int64_t in = net->sizes[0];
        for (int64_t r = 0; r < rows; ++r)
            memcpy(t->x_batch + r * in, d->x + (int64_t)d->row_indices[first + r] * d->ldx, (size_t)in * sizeof(float));
        h = t->x_batch;
        ldh = in;
    }
    const float *input = h;
    *ldin = ldh;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        const int64_t out = net->sizes[l + 1];
        const mlp_gemm_problem g = {0, 0, rows, out, net->sizes[l], 1.0f, h, ldh,
                                    net->params + net->weight_offset[l], out, 0.0f, t->acts[l], out,
                                    net->params + net->bias_offset[l], mlp_layer_activation(net, l)};
        mlp_gemm(kern, &g, t->threads, t->gemm_ws);
        h = t->acts[l];
        ldh = out;
    }
    return input;
}

static void backward(mlp_trainer *t, const float *input, int64_t ldin, int64_t rows)
{
    const mlp_network *net = t->net;
    const mlp_kernels *kern = mlp_kernels_get();
    int cur = 0; /* delta[cur] holds dLoss/dZ of layer l */
    for (int32_t l = net->num_layers - 1; l >= 0; --l) {
        const int64_t in = net->sizes[l], out = net->sizes[l + 1];
        const float *h_prev = l > 0 ? t->acts[l - 1] : input;
        const int64_t ld_prev = l > 0 ? in : ldin;
        const float *dz = t->delta[cur];
        /* dW = H_prevᵀ dZ, db = column sums of dZ */
        const mlp_gemm_problem gw = {1, 0, in, out, rows, 1.0f, h_prev, ld_prev, dz, out, 0.0f,
                                     t->grads + net->weight_offset[l], out, NULL, MLP_ACT_IDENTITY};
        mlp_gemm(kern, &gw, t->threads, t->gemm_ws);
        float *db = t->grads + net->bias_offset[l];
        memset(db, 0, (size_t)out * sizeof(float));
        for (int64_t r = 0; r < rows; ++r) kern->accumulate(out, dz + r * out, db);
        if (l == 0)
            break;
        /* dH_prev = dZ Wᵀ, then through the previous layer's activation */
        float *dh = t->delta[cur ^ 1];
        const mlp_gemm_problem gx = {0, 1, rows, in, out, 1.0f, dz, out, net->params + net->weight_offset[l], out,
                                     0.0f, dh, in, NULL, MLP_ACT_IDENTITY};
        mlp_gemm(kern, &gx, t->threads, t->gemm_ws);
        const int32_t act = mlp_layer_activation(net, l - 1);
        for (int64_t r = 0; r < rows; ++r) kern->activation_backward(act, in, h_prev + r * in, dh + r * in);
        cur ^= 1;
    }
}

static void update(mlp_trainer *t)
{
    const mlp_network *net = t->net;
    const mlp_kernels *kern = mlp_kernels_get();
    const mlp_train_config *c = &t->config;
    t->step_count++;
    float step_size = c->learning_rate;
    if (c->optimizer == MLP_OPT_ADAM) {
        const double bc1 = 1.0 - pow(c->beta1, (double)t->step_count), bc2 = 1.0 - pow(c->beta2, (double)t->step_count);
        step_size = (float)(c->learning_rate * sqrt(bc2) / bc1);
    }
    for (int32_t l = 0; l < net->num_layers; ++l) {
        /* weights get the L2 term, biases do not */
        const int64_t offsets[2] = {net->weight_offset[l], net->bias_offset[l]};
        const int64_t counts[2] = {(int64_t)net->sizes[l] * net->sizes[l + 1], net->sizes[l + 1]};
        for (int part = 0; part < 2; ++part) {
            const int64_t o = offsets[part];
            const float l2 = part == 0 ? c->l2 : 0.0f;
            if (c->optimizer == MLP_OPT_ADAM)
                kern->adam_update(counts[part], net->params + o, t->grads + o, t->moment1 + o, t->moment2 + o, step_size,
                                  c->beta1, c->beta2, c->epsilon, l2);
            else
                kern->sgd_update(counts[part], net->params + o, t->grads + o, t->moment1 ? t->moment1 + o : NULL,
                                 c->learning_rate, c->momentum, c->nesterov, l2);
        }
    }
}

MLP_API int32_t mlp_trainer_step(mlp_trainer *trainer, const float *x, int64_t ldx, int64_t x_rows,
                                 const int32_t *row_indices, int32_t batch_rows, const int32_t *labels,
                                 const float *targets, const float *weights, int32_t update_weights, double *loss_out)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(loss_out);
    MLP_CHECK(batch_rows >= 1 && batch_rows <= trainer->max_batch, "batch_rows must be in [1, %lld], got %d",
              (long long)trainer->max_batch, (int)batch_rows);
    MLP_CHECK(update_weights == 0 || update_weights == 1, "update must be 0 or 1");
    const batch_data d = {x, ldx, x_rows, row_indices, labels, targets, weights};
    int32_t status = check_batch_data(trainer, &d, batch_rows);
    if (status != MLP_OK) return status;

    const mlp_network *net = trainer->net;
    int64_t ldin;
    const float *input = forward(trainer, &d, 0, batch_rows, &ldin);
    const int32_t L = net->num_layers;
    const mlp_loss_batch lb = {net->loss, batch_rows, net->sizes[L], trainer->acts[L - 1], net->sizes[L],
                               labels, targets, weights, row_indices, 1.0f / (float)batch_rows,
                               trainer->delta[0], net->sizes[L]};
    mlp_loss_sums sums = {0, 0, 0};
    if ((status = mlp_loss_run(&lb, &sums)) != MLP_OK) return status;
    *loss_out = sums.loss / batch_rows;
    if (!isfinite(*loss_out))
        return mlp_fail(MLP_ERR_NOT_FINITE,
                        "the training loss is not finite (%g): the learning rate is probably too high or the features "
                        "are not normalized", *loss_out);
    backward(trainer, input, ldin, batch_rows);
    if (update_weights)
        update(trainer);
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_get_gradient(const mlp_trainer *trainer, int32_t layer, float *weights,
                                         int64_t weight_count, float *biases, int64_t bias_count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    const mlp_network *net = trainer->net;
    MLP_CHECK(layer >= 0 && layer < net->num_layers, "layer %d is outside [0, %d)", (int)layer, (int)net->num_layers);
    const int64_t wc = (int64_t)net->sizes[layer] * net->sizes[layer + 1], bc = net->sizes[layer + 1];
    MLP_CHECK(weight_count == wc && bias_count == bc, "layer %d has %lld weights and %lld biases", (int)layer,
              (long long)wc, (long long)bc);
    MLP_CHECK_NOT_NULL(weights);
    MLP_CHECK_NOT_NULL(biases);
    const float *gw = trainer->grads + net->weight_offset[layer], *w = net->params + net->weight_offset[layer];
    for (int64_t i = 0; i < wc; ++i) weights[i] = gw[i] + trainer->config.l2 * w[i];
    memcpy(biases, trainer->grads + net->bias_offset[layer], (size_t)bc * sizeof(float));
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_evaluate(mlp_trainer *trainer, const float *x, int64_t ldx, int64_t x_rows,
                                     const int32_t *row_indices, int64_t rows, const int32_t *labels,
                                     const float *targets, const float *weights, double *loss_sum,
                                     double *metric_sum, double *weight_sum)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(rows >= 0, "rows must not be negative");
    MLP_CHECK_NOT_NULL(loss_sum);
    MLP_CHECK_NOT_NULL(metric_sum);
    MLP_CHECK_NOT_NULL(weight_sum);
    const batch_data d = {x, ldx, x_rows, row_indices, labels, targets, weights};
    int32_t status = check_batch_data(trainer, &d, rows);
    if (status != MLP_OK) return status;
    const mlp_network *net = trainer->net;
    const int32_t L = net->num_layers;
    mlp_loss_sums sums = {0, 0, 0};
    for (int64_t first = 0; first < rows; first += trainer->max_batch) {
        const int64_t n = rows - first < trainer->max_batch ? rows - first : trainer->max_batch;
        int64_t ldin;
        forward(trainer, &d, first, n, &ldin);
        const mlp_loss_batch lb = {net->loss, n, net->sizes[L], trainer->acts[L - 1], net->sizes[L], labels, targets,
                                   weights, row_indices ? row_indices + first : NULL, 0.0f, NULL, 0};
        mlp_loss_batch shifted = lb;
        if (!row_indices) { /* examples first.. are rows 0.. of this chunk: offset the per-example arrays */
            shifted.labels = labels ? labels + first : NULL;
            shifted.targets = targets ? targets + first * net->sizes[L] : NULL;
            shifted.weights = weights ? weights + first : NULL;
        }
        if ((status = mlp_loss_run(&shifted, &sums)) != MLP_OK) return status;
    }
    *loss_sum = sums.loss;
    *metric_sum = sums.metric;
    *weight_sum = sums.weight;
    return MLP_OK;
}
