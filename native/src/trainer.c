/* Minibatch training: forward, fused loss, backward and optimizer update in one call. */
#include <math.h>
#include <string.h>

#include "errors.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "memory.h"
#include "portable_math.h"
#include "trainer.h"

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
    mlp_free(t->in_scale);
    mlp_free(t->in_scale_m1);
    mlp_free(t->in_scale_m2);
    mlp_free(t->w1_raw);
    mlp_free(t->in_scale_grad);
    mlp_free(t->w1_row_grad);
    mlp_sparse_batch_free(&t->batch);
    free(t->sparse_grad);
    free(t->row_decay_log);
    free(t->row_losses);
    for (int32_t l = 0; l < MLP_MAX_LAYERS; ++l) mlp_free(t->w_bf16[l]);
    mlp_free(t->x_bf16_transposed);
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
    MLP_CHECK(isfinite(c->weight_decay) && c->weight_decay >= 0.0f && c->weight_decay * c->learning_rate < 1.0f,
              "weight_decay must be finite, >= 0 and below 1 / learning_rate, got %g", (double)c->weight_decay);
    MLP_CHECK(c->beta1 >= 0.0f && c->beta1 < 1.0f, "beta1 must be in [0, 1), got %g", (double)c->beta1);
    MLP_CHECK(c->beta2 >= 0.0f && c->beta2 < 1.0f, "beta2 must be in [0, 1), got %g", (double)c->beta2);
    MLP_CHECK(isfinite(c->epsilon) && c->epsilon > 0.0f, "epsilon must be finite and > 0, got %g", (double)c->epsilon);
    MLP_CHECK(isfinite(c->l2) && c->l2 >= 0.0f, "l2 must be finite and >= 0, got %g", (double)c->l2);
    MLP_CHECK(c->max_batch_rows >= 1 && c->max_batch_rows <= (1 << 20), "max_batch_rows must be in [1, 2^20], got %d",
              (int)c->max_batch_rows);
    MLP_CHECK(c->num_threads >= 0 && c->num_threads <= MLP_MAX_THREADS, "num_threads must be in [0, %d], got %d",
              MLP_MAX_THREADS, (int)c->num_threads);
    MLP_CHECK(c->dropout_rate >= 0.0f && c->dropout_rate < 1.0f, "dropout_rate must be in [0, 1), got %g",
              (double)c->dropout_rate);
    MLP_CHECK(c->label_smoothing >= 0.0f && c->label_smoothing < 1.0f, "label_smoothing must be in [0, 1), got %g",
              (double)c->label_smoothing);
    MLP_CHECK(c->input_scale == 0 || c->input_scale == 1, "input_scale must be 0 or 1, got %d", (int)c->input_scale);
    MLP_CHECK(!c->input_scale || (isfinite(c->input_scale_rate) && c->input_scale_rate > 0.0f),
              "input_scale_rate must be finite and > 0, got %g", (double)c->input_scale_rate);
    MLP_CHECK(c->sparse_input == 0 || c->sparse_input == 1, "sparse_input must be 0 or 1, got %d", (int)c->sparse_input);
    MLP_CHECK(c->precision == MLP_PRECISION_FLOAT32 || c->precision == MLP_PRECISION_BFLOAT16,
              "precision must be 0 (float32) or 1 (bfloat16), got %d", (int)c->precision);
    if (c->precision == MLP_PRECISION_BFLOAT16 && !mlp_bf16_available())
        return mlp_fail(MLP_ERR_UNSUPPORTED, "bfloat16 training needs AVX512_BF16, which this CPU lacks (or MLNETMLP_ISA "
                                             "caps the kernels below AVX-512): use float32");
    MLP_CHECK(c->reserved == 0, "reserved must be 0");
    return MLP_OK;
}


/* The GEMM workspace: enough for any layer's GEMMs shared by the team, and for two single-thread gradient GEMMs
 * side by side (*gradient_floats each); in bfloat16 also for the packed bf16 copies. */
static int64_t trainer_gemm_floats(const mlp_network *net, int64_t b, int threads, int bf16, int64_t *gradient_floats)
{
    int64_t most = 0, gradient = 0;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        const int64_t in = net->sizes[l], out = net->sizes[l + 1];
        const int64_t shapes[3][3] = {{b, out, in}, {in, out, b}, {b, in, out}};
        for (int s = 0; s < 3; ++s) {
            const int64_t packed = bf16 ? mlp_gemm_bf16_workspace_floats(shapes[s][0], shapes[s][1], shapes[s][2]) : 0;
            int64_t w = mlp_gemm_workspace_floats(shapes[s][0], shapes[s][1], shapes[s][2], threads);
            if (packed > w) w = packed;
            if (w > most) most = w;
            if (s > 0) {
                int64_t alone = mlp_gemm_workspace_floats(shapes[s][0], shapes[s][1], shapes[s][2], 1);
                if (packed > alone) alone = packed;
                alone = (alone + 15) / 16 * 16;
                if (alone > gradient) gradient = alone;
            }
        }
    }
    *gradient_floats = gradient;
    return paired_gradients(threads) && 2 * gradient > most ? 2 * gradient : most;
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

    mlp_network_free_scoring(net); /* the trainer changes the float32 weights: no stale bfloat16 copy */
    mlp_trainer *t = calloc(1, sizeof *t);
    if (!t) return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating a trainer");
    t->net = net;
    t->config = *config;
    t->threads = mlp_threads_resolve(config->num_threads);
    t->max_batch = config->max_batch_rows;
    const int64_t b = t->max_batch, np = net->parameter_count;
    int64_t widest = 0;
    for (int32_t l = 0; l <= net->num_layers; ++l) widest = net->sizes[l] > widest ? net->sizes[l] : widest;

    /* sparse input: no dense gradient and no gathered copy for the first layer (its width may be millions) */
    const int sparse = config->sparse_input;
    t->grads_shift = sparse ? (int64_t)net->sizes[0] * net->sizes[1] : 0;
    int ok = (t->grads = mlp_alloc_floats(np - t->grads_shift)) != NULL;
    if (config->optimizer == MLP_OPT_ADAM) {
        ok = ok && (t->moment1 = mlp_alloc_floats(np)) && (t->moment2 = mlp_alloc_floats(np));
    } else if (config->momentum > 0.0f) {
        ok = ok && (t->moment1 = mlp_alloc_floats(np));
    }
    ok = ok && (sparse || (t->x_batch = mlp_alloc_floats(b * net->sizes[0])));
    if (sparse) {
        ok = ok && mlp_sparse_batch_init(&t->batch, net->sizes[0]) &&
             (t->row_decay_log = calloc((size_t)net->sizes[0], sizeof(double)));
    }
    for (int32_t l = 0; ok && l < net->num_layers; ++l)
        ok = (t->acts[l] = mlp_alloc_floats(b * net->sizes[l + 1])) != NULL;
    ok = ok && (t->delta[0] = mlp_alloc_floats(b * widest)) && (t->delta[1] = mlp_alloc_floats(b * widest));
    ok = ok && (t->gemm_ws = mlp_alloc_floats(trainer_gemm_floats(net, b, t->threads, config->precision == MLP_PRECISION_BFLOAT16, &t->gradient_ws_floats)));
    ok = ok && (t->row_losses = malloc((size_t)b * sizeof *t->row_losses));
    if (config->input_scale) {
        const int64_t in = net->sizes[0], w1 = (int64_t)net->sizes[0] * net->sizes[1];
        ok = ok && (t->in_scale = mlp_alloc_floats(in)) && (t->in_scale_m1 = mlp_alloc_floats(in)) &&
             (t->in_scale_m2 = mlp_alloc_floats(in)) && (t->w1_raw = mlp_alloc_floats(w1)) &&
             (t->in_scale_grad = mlp_alloc_floats(in)) &&
             (t->w1_row_grad = mlp_alloc_floats((int64_t)t->threads * net->sizes[1]));
        if (ok) {
            for (int64_t j = 0; j < in; ++j) t->in_scale[j] = 1.0f, t->in_scale_m1[j] = 0.0f, t->in_scale_m2[j] = 0.0f;
            memcpy(t->w1_raw, net->params + net->weight_offset[0], (size_t)w1 * sizeof(float));
        }
    }
    for (int32_t l = 0; ok && l < net->num_layers; ++l) { /* bf16 copies of the weights the forward multiplies by */
        const int64_t fan_in = net->sizes[l], fan_out = net->sizes[l + 1];
        if ((l == 0 && sparse) || !mlp_trainer_gemm_in_bf16(config, fan_out, fan_in))
            continue;
        const int64_t words = mlp_gemm_bf16_workspace_floats(0, fan_out, fan_in);
        ok = (t->w_bf16[l] = (uint32_t *)mlp_alloc_floats(words)) != NULL;
        if (ok) memset(t->w_bf16[l], 0, (size_t)words * sizeof(uint32_t)); /* the last panel's padding stays 0 */
    }
    if (ok && !sparse && config->precision == MLP_PRECISION_BFLOAT16) {
        /* Xᵀ's panels: (b + 1) / 2 pairs of rows for each of the input's 16-column panels (padding stays 0) */
        const int64_t words = (net->sizes[0] + 15) / 16 * 16 * ((b + 1) / 2) + 16;
        ok = (t->x_bf16_transposed = (uint32_t *)mlp_alloc_floats(words)) != NULL;
        if (ok) memset(t->x_bf16_transposed, 0, (size_t)words * sizeof(uint32_t));
    }
    for (int32_t l = 0; l < MLP_MAX_LAYERS; ++l) t->weight_rate[l] = 1.0f, t->bias_rate[l] = 1.0f;
    if (!ok) {
        trainer_free(t);
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating trainer buffers for batches of %lld rows",
                        (long long)b);
    }
    memset(t->grads, 0, (size_t)(np - t->grads_shift) * sizeof(float));
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

float mlp_trainer_max_weight_rate(const mlp_trainer *t)
{
    float most = 0.0f;
    for (int32_t l = 0; l < t->net->num_layers; ++l) most = t->weight_rate[l] > most ? t->weight_rate[l] : most;
    return most;
}

/* Decoupled weight decay shrinks a weight by rate * weight_decay per step: that must stay below 1. */
static int32_t check_decay(float learning_rate, float max_rate, float weight_decay)
{
    MLP_CHECK((double)learning_rate * max_rate * weight_decay < 1.0,
              "learning_rate (%g) * rate factor (%g) * weight_decay (%g) must be below 1", (double)learning_rate,
              (double)max_rate, (double)weight_decay);
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_set_learning_rate(mlp_trainer *trainer, float learning_rate)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(isfinite(learning_rate) && learning_rate > 0.0f, "learning_rate must be finite and > 0, got %g",
              (double)learning_rate);
    const int32_t status = check_decay(learning_rate, mlp_trainer_max_weight_rate(trainer), trainer->config.weight_decay);
    if (status != MLP_OK) return status;
    trainer->config.learning_rate = learning_rate;
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_set_rate_factors(mlp_trainer *trainer, int32_t layers, const float *weight_factors,
                                             const float *bias_factors)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(layers == trainer->net->num_layers, "layers is %d but the network has %d", (int)layers,
              (int)trainer->net->num_layers);
    MLP_CHECK_NOT_NULL(weight_factors);
    MLP_CHECK_NOT_NULL(bias_factors);
    float most = 0.0f;
    for (int32_t l = 0; l < layers; ++l) {
        MLP_CHECK(isfinite(weight_factors[l]) && weight_factors[l] > 0.0f, "weight_factors[%d] must be finite and > 0, got %g",
                  (int)l, (double)weight_factors[l]);
        MLP_CHECK(isfinite(bias_factors[l]) && bias_factors[l] > 0.0f, "bias_factors[%d] must be finite and > 0, got %g",
                  (int)l, (double)bias_factors[l]);
        most = weight_factors[l] > most ? weight_factors[l] : most;
    }
    const int32_t status = check_decay(trainer->config.learning_rate, most, trainer->config.weight_decay);
    if (status != MLP_OK) return status;
    for (int32_t l = 0; l < layers; ++l) trainer->weight_rate[l] = weight_factors[l], trainer->bias_rate[l] = bias_factors[l];
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_set_regularization(mlp_trainer *trainer, float dropout_rate, float weight_decay)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(dropout_rate >= 0.0f && dropout_rate < 1.0f, "dropout_rate must be in [0, 1), got %g", (double)dropout_rate);
    MLP_CHECK(isfinite(weight_decay) && weight_decay >= 0.0f, "weight_decay must be finite and >= 0, got %g",
              (double)weight_decay);
    const int32_t status = check_decay(trainer->config.learning_rate, mlp_trainer_max_weight_rate(trainer), weight_decay);
    if (status != MLP_OK) return status;
    trainer->config.dropout_rate = dropout_rate;
    trainer->config.weight_decay = weight_decay;
    return MLP_OK;
}

/* ---- the step (the team's pass itself is in training_step.c) ------------------------------------ */

/* The labels (softmax) of the batch's examples: checked here, in the caller's thread (whose error message the caller
 * reads), not in the team's loss. */
static int32_t check_labels(const mlp_trainer *t, const mlp_batch_data *d, int64_t rows)
{
    const mlp_network *net = t->net;
    if (net->loss == MLP_LOSS_SOFTMAX_CROSS_ENTROPY) {
        MLP_CHECK(d->labels != NULL && d->targets == NULL, "softmax cross-entropy takes labels (not targets)");
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t ex = d->row_indices ? d->row_indices[r] : r;
            const int32_t status = mlp_loss_check_label(d->labels[ex], ex, net->sizes[net->num_layers]);
            if (status != MLP_OK)
                return status;
        }
    } else {
        MLP_CHECK(d->targets != NULL && d->labels == NULL, "this loss takes targets (not labels)");
    }
    return MLP_OK;
}

/* A CSR batch: the rows it reads (all checked), then the labels. */
static int32_t check_csr_batch(const mlp_trainer *t, const mlp_batch_data *d, int64_t rows)
{
    const int32_t status = mlp_csr_check(d->csr, d->row_indices, rows, t->net->sizes[0]);
    return status != MLP_OK ? status : check_labels(t, d, rows);
}

static int32_t check_batch_data(const mlp_trainer *t, const mlp_batch_data *d, int64_t rows)
{
    const mlp_network *net = t->net;
    MLP_CHECK(!t->config.sparse_input, "this trainer was created with sparse_input: give it CSR batches (mlp_trainer_step_csr)");
    MLP_CHECK(d->ldx >= net->sizes[0], "ldx is %lld but the network has %d inputs", (long long)d->ldx, (int)net->sizes[0]);
    MLP_CHECK(d->x_rows >= 0, "x_rows must not be negative");
    int64_t extent;
    MLP_CHECK(mlp_mul_ok(d->x_rows, d->ldx, &extent) && extent <= INT64_MAX / (int64_t)sizeof(float),
              "x of %lld rows with leading dimension %lld exceeds the address space", (long long)d->x_rows,
              (long long)d->ldx);
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
    return check_labels(t, d, rows);
}

/* The bfloat16 GEMM reads rows by index at any shape; the float32 one on some paths. */
static int takes_row_indices(const mlp_trainer *t, const mlp_kernels *kern, const mlp_gemm_problem *g)
{
    return mlp_trainer_gemm_in_bf16(&t->config, g->n, g->k) || mlp_gemm_takes_row_indices(kern, g);
}

/* Whether the first layer's GEMMs (forward, and the weight gradient when training) can read the batch's rows of x
 * by index, so that they need not be gathered first (the kernel sets and shapes where those GEMMs read A in place
 * or pack it anyway). */
static int reads_rows_by_index(const mlp_trainer *t, const mlp_batch_data *d, int64_t first, int64_t rows, int train)
{
    const mlp_network *net = t->net;
    const mlp_kernels *kern = mlp_kernels_get();
    const int64_t in = net->sizes[0], out = net->sizes[1];
    const int32_t *idx = d->row_indices + first;
    const mlp_gemm_problem forward = {0, 0, rows, out, in, 1.0f, d->x, d->ldx, net->params, out, 0.0f, t->acts[0], out,
                                      NULL, MLP_ACT_IDENTITY, idx};
    const mlp_gemm_problem weight_gradient = {1, 0, in, out, rows, 1.0f, d->x, d->ldx, t->delta[0], out, 0.0f, t->grads,
                                              out, NULL, MLP_ACT_IDENTITY, idx};
    return takes_row_indices(t, kern, &forward) && (!train || takes_row_indices(t, kern, &weight_gradient));
}

void mlp_trainer_weights_updated(mlp_trainer *t)
{
    /* a new version for the network, so that a copy another trainer of it holds is stale */
    t->w_bf16_version = ++t->net->weights_version;
}

/* The step size of the next update: the learning rate, with Adam's bias correction for the step count. */
static float next_step_size(const mlp_trainer *t)
{
    const mlp_train_config *c = &t->config;
    if (c->optimizer != MLP_OPT_ADAM)
        return c->learning_rate;
    const int64_t step = t->step_count + 1;
    const double bc1 = 1.0 - mlp_powi(c->beta1, step), bc2 = 1.0 - mlp_powi(c->beta2, step);
    return (float)(c->learning_rate * sqrt(bc2) / bc1);
}

/* Forward (+ loss) and, when training, backward (+ update) over examples [first, first + rows). */
static int32_t run_pass(mlp_trainer *t, const mlp_batch_data *d, int64_t first, int64_t rows, int train, int update,
                        float grad_scale, mlp_loss_sums *sums)
{
    const mlp_network *net = t->net;
    const int32_t L = net->num_layers;
    mlp_step_task st;
    memset(&st, 0, sizeof st);
    st.ps.t = t;
    st.ps.d = d;
    st.ps.first = first;
    st.ps.rows = rows;
    st.ps.train = train;
    st.ps.update = update;
    st.ps.input = d->csr ? NULL : d->row_indices ? t->x_batch : d->x + first * d->ldx;
    st.ps.ldin = d->row_indices ? net->sizes[0] : d->ldx;
    if (!d->csr && d->row_indices && reads_rows_by_index(t, d, first, rows, train)) {
        st.ps.input = d->x;
        st.ps.ldin = d->ldx;
        st.ps.input_rows = d->row_indices + first;
    }
    /* per-example arrays: through the batch's row indices, or offset to the first example */
    const int shifted = d->row_indices == NULL;
    const mlp_loss_batch lb = {net->loss, rows, net->sizes[L], t->acts[L - 1], net->sizes[L],
                               shifted && d->labels ? d->labels + first : d->labels,
                               shifted && d->targets ? d->targets + first * net->sizes[L] : d->targets,
                               shifted && d->weights ? d->weights + first : d->weights,
                               d->row_indices ? d->row_indices + first : NULL, grad_scale,
                               train ? t->delta[0] : NULL, net->sizes[L], train ? t->config.label_smoothing : 0.0f};
    st.loss = lb;
    if (train && update) {
        st.step_size = next_step_size(t);
        st.decay_step_log = mlp_log1p(-(double)t->config.learning_rate * t->weight_rate[0] * t->config.weight_decay);
    }
    /* a batch this small is not worth a fork-join; sparse rows cost their nonzeros, not the first layer's width */
    double work = (double)net->parameter_count;
    if (d->csr) {
        const int64_t w1 = (int64_t)net->sizes[0] * net->sizes[1];
        const double nnz = t->batch.slots > 0 ? (double)t->batch.slot_start[t->batch.slots] / (double)rows : 64.0;
        work = (double)(net->parameter_count - w1) + nnz * net->sizes[1];
    }
    const double flops = 2.0 * (double)rows * work * (train ? 3.0 : 1.0);
    mlp_parallel(flops < 4e6 ? 1 : t->threads, mlp_step_task_run, &st);
    for (int i = 0; i < MLP_MAX_THREADS; ++i)
        if (st.status[i] != MLP_OK) /* labels are checked beforehand: cannot happen */
            return i == 0 ? st.status[i] : mlp_fail(st.status[i], "the loss failed on a worker thread");
    if (train && update && isfinite(st.sums.loss)) {
        t->step_count++;
        mlp_trainer_weights_updated(t);
        if (d->csr) { /* the touched rows are up to date, the others owe this step's decay too */
            t->decay_log += st.decay_step_log;
            for (int64_t s = 0; s < t->batch.slots; ++s) t->row_decay_log[t->batch.slot_column[s]] = t->decay_log;
        }
    }
    sums->loss += st.sums.loss;
    sums->metric += st.sums.metric;
    sums->weight += st.sums.weight;
    return MLP_OK;
}

/* The training pass of a checked minibatch (dense or CSR) and its mean loss, refused when not finite. */
static int32_t train_batch(mlp_trainer *t, const mlp_batch_data *d, int32_t batch_rows, int32_t update, double *loss_out)
{
    mlp_loss_sums sums = {0, 0, 0};
    const int32_t status = run_pass(t, d, 0, batch_rows, 1, update, 1.0f / (float)batch_rows, &sums);
    if (status != MLP_OK)
        return status;
    *loss_out = sums.loss / batch_rows;
    if (!isfinite(*loss_out))
        return mlp_fail(MLP_ERR_NOT_FINITE,
                        "the training loss is not finite (%g): the learning rate is probably too high or the features "
                        "are not normalized", *loss_out);
    return MLP_OK;
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
    const mlp_batch_data d = {NULL, x, ldx, x_rows, row_indices, labels, targets, weights};
    int32_t status = check_batch_data(trainer, &d, batch_rows);
    if (status != MLP_OK) return status;

    return train_batch(trainer, &d, batch_rows, update_weights, loss_out);
}

MLP_API int32_t mlp_trainer_gradient_buffer(mlp_trainer *trainer, float **gradient, int64_t *count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(gradient);
    MLP_CHECK_NOT_NULL(count);
    *gradient = trainer->grads;
    *count = trainer->net->parameter_count - trainer->grads_shift;
    return MLP_OK;
}

/* The first non-finite element of values[0, n), or -1. */
static int64_t first_not_finite(const float *values, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        if (!isfinite(values[i])) return i;
    return -1;
}

/* The optimizer update from the gradient buffer (and, sparse, the batch's slot rows in sparse_grad). */
static void apply_update(mlp_trainer *t)
{
    const int64_t np = t->net->parameter_count;
    mlp_update_task u = {t, next_step_size(t)};
    const double decay_step_log = mlp_log1p(-(double)t->config.learning_rate * t->weight_rate[0] * t->config.weight_decay);
    mlp_parallel((double)np < 2e5 ? 1 : t->threads, mlp_update_task_run, &u);
    t->step_count++;
    mlp_trainer_weights_updated(t);
    if (t->config.sparse_input) { /* as run_pass: the updated rows are up to date, the others owe this step's decay */
        t->decay_log += decay_step_log;
        for (int64_t s = 0; s < t->batch.slots; ++s) t->row_decay_log[t->batch.slot_column[s]] = t->decay_log;
    }
}

MLP_API int32_t mlp_trainer_apply_gradient(mlp_trainer *trainer)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(!trainer->config.sparse_input,
              "a sparse-input trainer's first layer has a row-sparse gradient: use mlp_trainer_apply_sparse_gradient");
    const int64_t bad = first_not_finite(trainer->grads, trainer->net->parameter_count);
    if (bad >= 0)
        return mlp_fail(MLP_ERR_NOT_FINITE, "gradient element %lld is not finite (%g)", (long long)bad,
                        (double)trainer->grads[bad]);
    apply_update(trainer);
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_sparse_gradient(mlp_trainer *trainer, const int32_t **columns, float **rows, int64_t *count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(columns);
    MLP_CHECK_NOT_NULL(rows);
    MLP_CHECK_NOT_NULL(count);
    MLP_CHECK(trainer->config.sparse_input, "only a sparse-input trainer has a row-sparse first-layer gradient");
    *columns = trainer->batch.slot_column;
    *rows = trainer->sparse_grad;
    *count = trainer->batch.slots;
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_apply_sparse_gradient(mlp_trainer *trainer, const int32_t *columns, const float *rows,
                                                  int64_t count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    mlp_trainer *t = trainer;
    MLP_CHECK(t->config.sparse_input, "mlp_trainer_apply_sparse_gradient needs a sparse-input trainer");
    const int64_t in = t->net->sizes[0], h = t->net->sizes[1];
    MLP_CHECK(count >= 0 && count <= in, "count must be in [0, %lld] (the first layer's rows), got %lld", (long long)in,
              (long long)count);
    MLP_CHECK(count == 0 || (columns && rows), "columns and rows must not be NULL when count > 0");
    for (int64_t i = 0; i < count; ++i)
        MLP_CHECK(columns[i] >= 0 && columns[i] < in && (i == 0 || columns[i] > columns[i - 1]),
                  "columns must be distinct, ascending and in [0, %lld): columns[%lld] = %d", (long long)in, (long long)i,
                  (int)columns[i]);
    int64_t bad = first_not_finite(t->grads, t->net->parameter_count - t->grads_shift);
    if (bad >= 0)
        return mlp_fail(MLP_ERR_NOT_FINITE, "gradient element %lld is not finite (%g)", (long long)bad, (double)t->grads[bad]);
    if ((bad = first_not_finite(rows, count * h)) >= 0)
        return mlp_fail(MLP_ERR_NOT_FINITE, "first-layer gradient row %lld (column %d) is not finite", (long long)(bad / h),
                        (int)columns[bad / h]);
    /* the caller may pass the trainer's own arrays (mlp_trainer_sparse_gradient): they are moved, never freed first */
    if (count > t->sparse_grad_rows) {
        float *grown = malloc((size_t)count * (size_t)h * sizeof(float));
        if (!grown)
            return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory for the gradient of %lld first-layer rows", (long long)count);
        memcpy(grown, rows, (size_t)(count * h) * sizeof(float));
        free(t->sparse_grad);
        t->sparse_grad = grown;
        t->sparse_grad_rows = count;
    } else if (count > 0) {
        memmove(t->sparse_grad, rows, (size_t)(count * h) * sizeof(float));
    }
    if (columns != t->batch.slot_column || count != t->batch.slots) {
        int32_t *own = count > 0 ? malloc((size_t)count * sizeof(int32_t)) : NULL;
        if (count > 0 && !own) return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory for %lld columns", (long long)count);
        if (count > 0) memcpy(own, columns, (size_t)count * sizeof(int32_t));
        const int32_t status = mlp_sparse_batch_set_columns(&t->batch, own, count);
        free(own);
        if (status != MLP_OK) return status;
    }
    for (int64_t s = 0; s < t->batch.slots; ++s) mlp_trainer_catch_up_row(t, t->batch.slot_column[s]);
    apply_update(t);
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
    const float *w = net->params + net->weight_offset[layer];
    const float l2 = trainer->config.l2; /* the decoupled weight decay is not part of the gradient */
    if (layer == 0 && trainer->config.sparse_input) {
        /* row-sparse: the rows of the last batch's columns (with their L2 term), zero elsewhere */
        const int64_t h = net->sizes[1];
        memset(weights, 0, (size_t)wc * sizeof(float));
        for (int64_t s = 0; s < trainer->batch.slots; ++s) {
            const int64_t c = trainer->batch.slot_column[s];
            for (int64_t k = 0; k < h; ++k) weights[c * h + k] = trainer->sparse_grad[s * h + k] + l2 * w[c * h + k];
        }
    } else {
        const float *gw = mlp_grad(trainer, net->weight_offset[layer]);
        for (int64_t i = 0; i < wc; ++i) weights[i] = gw[i] + l2 * w[i];
    }
    memcpy(biases, mlp_grad(trainer, net->bias_offset[layer]), (size_t)bc * sizeof(float));
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
    const mlp_batch_data d = {NULL, x, ldx, x_rows, row_indices, labels, targets, weights};
    int32_t status = check_batch_data(trainer, &d, rows);
    if (status != MLP_OK) return status;
    mlp_loss_sums sums = {0, 0, 0};
    for (int64_t first = 0; first < rows; first += trainer->max_batch) {
        const int64_t n = rows - first < trainer->max_batch ? rows - first : trainer->max_batch;
        if ((status = run_pass(trainer, &d, first, n, 0, 0, 0.0f, &sums)) != MLP_OK)
            return status;
    }
    *loss_sum = sums.loss;
    *metric_sum = sums.metric;
    *weight_sum = sums.weight;
    return MLP_OK;
}

/* ---- sparse batches -------------------------------------------------------------------------------- */

void mlp_trainer_catch_up_row(mlp_trainer *t, int64_t c)
{
    const double missed = t->decay_log - t->row_decay_log[c];
    if (missed == 0.0)
        return;
    const int64_t h = t->net->sizes[1];
    const float factor = (float)mlp_exp(missed);
    float *w = t->net->params + t->net->weight_offset[0] + c * h;
    if (t->in_scale) {
        float *raw = t->w1_raw + c * h;
        for (int64_t k = 0; k < h; ++k) {
            raw[k] *= factor;
            w[k] = t->in_scale[c] * raw[k];
        }
    } else {
        for (int64_t k = 0; k < h; ++k) w[k] *= factor;
    }
    t->row_decay_log[c] = t->decay_log;
}

MLP_API int32_t mlp_trainer_sync(mlp_trainer *trainer)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    if (trainer->config.sparse_input)
        for (int64_t c = 0; c < trainer->net->sizes[0]; ++c) mlp_trainer_catch_up_row(trainer, c);
    return MLP_OK;
}

/* A view of rows [first, rows) of x as a block of its own (the same arrays). */
static mlp_csr csr_from(const mlp_csr *x, int64_t first)
{
    const mlp_csr v = {x->rows - first, x->cols, x->offsets + first, x->columns, x->values};
    return v;
}

MLP_API int32_t mlp_trainer_step_csr(mlp_trainer *trainer, const mlp_csr *x, const int32_t *row_indices,
                                     int32_t batch_rows, const int32_t *labels, const float *targets,
                                     const float *weights, int32_t update_weights, double *loss_out)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(loss_out);
    MLP_CHECK(trainer->config.sparse_input, "this trainer takes dense batches (create it with sparse_input for CSR)");
    MLP_CHECK(batch_rows >= 1 && batch_rows <= trainer->max_batch, "batch_rows must be in [1, %lld], got %d",
              (long long)trainer->max_batch, (int)batch_rows);
    MLP_CHECK(update_weights == 0 || update_weights == 1, "update must be 0 or 1");
    const mlp_batch_data d = {x, NULL, 0, x ? x->rows : 0, row_indices, labels, targets, weights};
    int32_t status = check_csr_batch(trainer, &d, batch_rows);
    if (status != MLP_OK) return status;

    mlp_trainer *t = trainer;
    mlp_sparse_batch_clear(&t->batch);
    if ((status = mlp_sparse_batch_build(&t->batch, x, row_indices, batch_rows)) != MLP_OK)
        return status;
    const int64_t h = t->net->sizes[1];
    if (t->batch.slots > t->sparse_grad_rows) {
        float *grown = realloc(t->sparse_grad, (size_t)t->batch.slots * (size_t)h * sizeof(float));
        if (!grown)
            return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory for the gradient of %lld first-layer rows",
                            (long long)t->batch.slots);
        t->sparse_grad = grown;
        t->sparse_grad_rows = t->batch.slots;
    }
    for (int64_t s = 0; s < t->batch.slots; ++s) mlp_trainer_catch_up_row(t, t->batch.slot_column[s]);

    return train_batch(t, &d, batch_rows, update_weights, loss_out);
}

MLP_API int32_t mlp_trainer_evaluate_csr(mlp_trainer *trainer, const mlp_csr *x, const int32_t *row_indices,
                                         int64_t rows, const int32_t *labels, const float *targets,
                                         const float *weights, double *loss_sum, double *metric_sum,
                                         double *weight_sum)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK(rows >= 0, "rows must not be negative");
    MLP_CHECK_NOT_NULL(loss_sum);
    MLP_CHECK_NOT_NULL(metric_sum);
    MLP_CHECK_NOT_NULL(weight_sum);
    const mlp_batch_data all = {x, NULL, 0, x ? x->rows : 0, row_indices, labels, targets, weights};
    int32_t status = check_csr_batch(trainer, &all, rows);
    if (status != MLP_OK) return status;
    mlp_trainer_sync(trainer);
    mlp_loss_sums sums = {0, 0, 0};
    for (int64_t first = 0; first < rows; first += trainer->max_batch) {
        const int64_t n = rows - first < trainer->max_batch ? rows - first : trainer->max_batch;
        /* rows [first, first + n): through the indices, or a view starting at row first */
        const mlp_csr view = csr_from(x, row_indices ? 0 : first);
        const mlp_batch_data d = {&view, NULL, 0, view.rows, row_indices ? row_indices + first : NULL,
                                  labels && !row_indices ? labels + first : labels,
                                  targets && !row_indices ? targets + first * trainer->net->sizes[trainer->net->num_layers] : targets,
                                  weights && !row_indices ? weights + first : weights};
        if ((status = run_pass(trainer, &d, 0, n, 0, 0, 0.0f, &sums)) != MLP_OK)
            return status;
    }
    *loss_sum = sums.loss;
    *metric_sum = sums.metric;
    *weight_sum = sums.weight;
    return MLP_OK;
}
