/* The trainer object, shared by its API (trainer.c) and the team's pass through a minibatch (training_step.c). */
#ifndef MLP_TRAINER_H
#define MLP_TRAINER_H

#include <stdint.h>

#include "loss.h"
#include "mlnetmlp.h"
#include "network.h"
#include "sparse.h"
#include "threads.h" /* MLP_MAX_THREADS */

struct mlp_trainer {
    mlp_network *net;
    mlp_train_config config;
    int threads;
    int64_t max_batch;
    int64_t step_count;          /* Adam's t */
    float *grads;                /* same layout as net->params, less grads_shift floats at the start (see mlp_grad) */
    int64_t grads_shift;         /* sparse_input: the first layer's weights have no dense gradient */
    float *moment1, *moment2;    /* Adam m, v; SGD velocity in moment1 */
    float *x_batch;              /* gathered inputs, max_batch x sizes[0] */
    float *acts[MLP_MAX_LAYERS]; /* layer outputs, max_batch x sizes[l + 1] */
    float *delta[2];             /* backprop buffers, max_batch x widest layer */
    mlp_loss_sums *row_losses;   /* max_batch: each row's loss, added up in row order */
    float *gemm_ws;
    int64_t gradient_ws_floats;  /* one thread's share of gemm_ws for the paired gradient GEMMs */
    float weight_rate[MLP_MAX_LAYERS], bias_rate[MLP_MAX_LAYERS]; /* learning-rate factors */
    /* config.input_scale: s, its Adam moments (SGD: velocity in the first), and the first layer's weights before
     * scaling; the network holds diag(s) w1_raw */
    float *in_scale, *in_scale_m1, *in_scale_m2, *w1_raw;
    float *in_scale_grad;        /* [inputs] */
    float *w1_row_grad;          /* per thread, one row of the raw weights' gradient: threads x sizes[1] */
    /* config.sparse_input: the minibatch's columns, the first layer's row-sparse gradient [slots x sizes[1]], and
     * the lazy weight decay: decay_log = sum over the steps so far of log(1 - lr * rate * weight_decay),
     * row_decay_log[c] = its value when row c of the first layer was last brought up to date */
    mlp_sparse_batch batch;
    float *sparse_grad;
    int64_t sparse_grad_rows;
    double decay_log;
    double *row_decay_log;
    /* precision bfloat16: the forward GEMM's packed bf16 copy of layer l's weights (NULL where that GEMM is not a
     * bf16 one), refreshed by the optimizer update as it goes (mlp_bf16_pack_b_pairs), so that the forward does not
     * pack them; current while net->weights_version == w_bf16_version */
    uint32_t *w_bf16[MLP_MAX_LAYERS];
    uint64_t w_bf16_version;
    /* precision bfloat16, dense input: the minibatch's inputs as Xᵀ's bf16 panels, packed by the first layer's
     * forward GEMM while the rows are in cache, for its weight gradient Xᵀ dZ (words for max_batch rows) */
    uint32_t *x_bf16_transposed;
};

/* Whether a training GEMM with these N and K runs in bfloat16: every one in bfloat16 precision except the thin shapes
 * (N or K of at most 16: the output layer, its input gradient), whose few flops the float32 thin paths serve faster. */
static inline int mlp_trainer_gemm_in_bf16(const mlp_train_config *c, int64_t n, int64_t k)
{
    return c->precision == MLP_PRECISION_BFLOAT16 && n > 16 && k > 16;
}

/* Whether this pass's first-layer forward packs Xᵀ for the weight gradient (both GEMMs in bfloat16). */
static inline int mlp_trainer_packs_input_transposed(const mlp_trainer *t, int train, int64_t rows)
{
    return train && t->x_bf16_transposed && mlp_trainer_gemm_in_bf16(&t->config, t->net->sizes[1], rows) &&
           mlp_trainer_gemm_in_bf16(&t->config, t->net->sizes[1], t->net->sizes[0]);
}

/* Whether the trainer keeps a bfloat16 copy of layer l's weights, and the copy if it is current (else NULL). */
static inline const uint32_t *mlp_trainer_current_bf16(const mlp_trainer *t, int32_t l)
{
    return t->w_bf16[l] && t->w_bf16_version == t->net->weights_version ? t->w_bf16[l] : NULL;
}

/* After an update of all dense weights (the copies refreshed with it): the new weights' version. */
void mlp_trainer_weights_updated(mlp_trainer *t);

/* The gradient at parameter offset o (not the first layer's weights in sparse_input mode). */
static inline float *mlp_grad(const mlp_trainer *t, int64_t o) { return t->grads + (o - t->grads_shift); }

/* The largest rate factor of any layer's weights (the weight-decay bound). */
float mlp_trainer_max_weight_rate(const mlp_trainer *t);

/* A team of two computes a hidden layer's two gradient GEMMs side by side, one each (see backward_team in
 * training_step.c); the trainer's workspace makes room for that. */
static inline int paired_gradients(int team) { return team == 2; }

/* The caller's data for a step or an evaluation. */
typedef struct mlp_batch_data {
    const mlp_csr *csr;   /* sparse rows instead of x (x is NULL then) */
    const float *x;
    int64_t ldx, x_rows;
    const int32_t *row_indices;
    const int32_t *labels;
    const float *targets;
    const float *weights;
} mlp_batch_data;

/* One pass (forward, and for training: loss, backward, update) of `rows` rows starting at example `first`,
 * run by a team of threads that meet at barriers between the stages. Every value is computed by one
 * thread with the same arithmetic whatever the team size, so results do not depend on it. */
typedef struct mlp_pass {
    mlp_trainer *t;
    const mlp_batch_data *d;
    int64_t first, rows;
    int train;          /* 0: forward only */
    int update;         /* train: also apply the optimizer */
    const float *input; /* the network's input rows (x itself or the gathered copy) */
    int64_t ldin;
    const int32_t *input_rows; /* or x with the batch's row indices, read by the GEMMs themselves */
} mlp_pass;

/* A pass with its loss: what every thread of the team gets. */
typedef struct mlp_step_task {
    mlp_pass ps;
    mlp_loss_batch loss;
    mlp_loss_sums sums;              /* the batch's total (thread 0's copy) */
    int32_t status[MLP_MAX_THREADS]; /* each thread's share of the loss */
    float step_size;
    double decay_step_log;           /* sparse: log(1 - lr * rate * weight_decay) of this step */
} mlp_step_task;

/* Sparse mode: brings first-layer rows [c0, c1) (columns, all of them: sync) or the batch's slot rows up to date with
 * the weight decay they missed (factor exp(decay_log - row_decay_log[c])). */
void mlp_trainer_catch_up_row(mlp_trainer *t, int64_t column);

/* The mlp_parallel task of a pass (ctx: an mlp_step_task): forward and loss, and when training, backward and
 * the optimizer update. */
void mlp_step_task_run(void *ctx, int thread, int team);

/* The optimizer update alone, from the gradient buffer (mlp_trainer_apply_gradient); threads take element ranges. */
typedef struct mlp_update_task {
    mlp_trainer *t;
    float step_size;
} mlp_update_task;
void mlp_update_task_run(void *ctx, int thread, int team);

#endif
