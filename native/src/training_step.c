/* One pass of a team through a minibatch: gather, forward with the loss, backward, optimizer update, the stages
 * separated by barriers. */
#include <math.h>
#include <string.h>

#include "dropout.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "trainer.h"

static int in_bf16(const mlp_trainer *t, const mlp_gemm_problem *g)
{
    return mlp_trainer_gemm_in_bf16(&t->config, g->n, g->k);
}

static void gemm_team(const mlp_trainer *t, const mlp_kernels *kern, const mlp_gemm_problem *g, float *ws, int thread, int team)
{
    if (in_bf16(t, g))
        mlp_gemm_bf16_team(kern, g, ws, thread, team);
    else
        mlp_gemm_team(kern, g, ws, thread, team);
}

/* One thread alone (the paired gradients). */
static void gemm_alone(const mlp_trainer *t, const mlp_kernels *kern, const mlp_gemm_problem *g, float *ws)
{
    if (in_bf16(t, g))
        mlp_gemm_bf16_team(kern, g, ws, 0, 1);
    else
        mlp_gemm(kern, g, 1, ws);
}

/* Rows [lo, hi) of the batch into dst (rows of `in` floats). The rows sit at random places in memory: copying
 * GATHER_ROWS of them side by side, a cache line from each in turn, keeps that many memory streams in flight
 * where one row after another would wait for each row's first lines. */
#define GATHER_ROWS 4
#define LINE_FLOATS 16
static void gather_rows(const mlp_batch_data *d, int64_t first, int64_t lo, int64_t hi, int64_t in, float *dst)
{
    int64_t r = lo;
    for (; r + GATHER_ROWS <= hi; r += GATHER_ROWS) {
        const float *src[GATHER_ROWS];
        for (int q = 0; q < GATHER_ROWS; ++q) src[q] = d->x + (int64_t)d->row_indices[first + r + q] * d->ldx;
        int64_t j = 0;
        for (; j + LINE_FLOATS <= in; j += LINE_FLOATS)
            for (int q = 0; q < GATHER_ROWS; ++q)
                memcpy(dst + (r + q) * in + j, src[q] + j, LINE_FLOATS * sizeof(float));
        for (int q = 0; q < GATHER_ROWS && j < in; ++q)
            memcpy(dst + (r + q) * in + j, src[q] + j, (size_t)(in - j) * sizeof(float));
    }
    for (; r < hi; ++r)
        memcpy(dst + r * in, d->x + (int64_t)d->row_indices[first + r] * d->ldx, (size_t)in * sizeof(float));
}

/* This step's dropout masks (a function of the seed and the step count). */
static mlp_dropout step_dropout(const mlp_trainer *t)
{
    const mlp_dropout drop = {t->config.dropout_rate, t->config.seed, (uint64_t)t->step_count};
    return drop;
}

static void forward_team(const mlp_pass *ps, int thread, int team)
{
    mlp_trainer *t = ps->t;
    const mlp_batch_data *d = ps->d;
    const mlp_network *net = t->net;
    const mlp_kernels *kern = mlp_kernels_get();
    if (!d->csr && d->row_indices && !ps->input_rows) { /* gather the batch's rows: each thread copies a share */
        const int64_t in = net->sizes[0];
        int64_t lo, hi;
        mlp_share(ps->rows, 1, thread, team, &lo, &hi);
        gather_rows(d, ps->first, lo, hi, in, t->x_batch);
        mlp_barrier(team);
    }
    const float *h = ps->input;
    int64_t ldh = ps->ldin;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        const int64_t out = net->sizes[l + 1];
        if (l == 0 && d->csr) { /* sparse rows: sum value * W1[column, :] over each row's nonzeros; threads take rows */
            int64_t lo, hi;
            mlp_share(ps->rows, 1, thread, team, &lo, &hi);
            mlp_sparse_forward(kern, d->csr, d->row_indices, lo, hi, net->params + net->weight_offset[0], out,
                               net->params + net->bias_offset[0], mlp_layer_activation(net, 0), t->acts[0], out);
            mlp_barrier(team);
        } else {
            const mlp_gemm_problem g = {0, 0, ps->rows, out, net->sizes[l], 1.0f, h, ldh,
                                        net->params + net->weight_offset[l], out, 0.0f, t->acts[l], out,
                                        net->params + net->bias_offset[l], mlp_layer_activation(net, l),
                                        l == 0 ? ps->input_rows : NULL};
            const mlp_bf16_operands ops = {NULL, mlp_trainer_current_bf16(t, l),
                                           l == 0 && mlp_trainer_packs_input_transposed(t, ps->train, ps->rows)
                                               ? t->x_bf16_transposed : NULL};
            if (ops.packed_b || ops.a_transposed)
                mlp_gemm_bf16_team_with(kern, &g, &ops, t->gemm_ws, thread, team);
            else
                gemm_team(t, kern, &g, t->gemm_ws, thread, team);
        }
        if (ps->train && t->config.dropout_rate > 0.0f && l < net->num_layers - 1) {
            const mlp_dropout drop = step_dropout(t);
            int64_t lo, hi;
            mlp_share(ps->rows, 1, thread, team, &lo, &hi);
            for (int64_t r = lo; r < hi; ++r) mlp_dropout_forward(&drop, l, r, out, t->acts[l] + r * out);
            mlp_barrier(team);
        }
        h = t->acts[l];
        ldh = out;
    }
}

static void backward_team(const mlp_pass *ps, int thread, int team)
{
    mlp_trainer *t = ps->t;
    const mlp_network *net = t->net;
    const mlp_kernels *kern = mlp_kernels_get();
    const int64_t rows = ps->rows;
    int cur = 0; /* delta[cur] holds dLoss/dZ of layer l */
    for (int32_t l = net->num_layers - 1; l >= 0; --l) {
        const int64_t in = net->sizes[l], out = net->sizes[l + 1];
        const float *h_prev = l > 0 ? t->acts[l - 1] : ps->input;
        const int64_t ld_prev = l > 0 ? in : ps->ldin;
        const float *dz = t->delta[cur];
        /* db = column sums of dZ: threads take columns, so each sum keeps its row order */
        int64_t c0, c1;
        mlp_share(out, 16, thread, team, &c0, &c1);
        float *db = mlp_grad(t, net->bias_offset[l]);
        if (c1 > c0) {
            memset(db + c0, 0, (size_t)(c1 - c0) * sizeof(float));
            for (int64_t r = 0; r < rows; ++r) kern->accumulate(c1 - c0, dz + r * out + c0, db + c0);
        }
        if (l == 0 && ps->d->csr) { /* row-sparse dW: the batch's columns only, threads take columns */
            mlp_barrier(team); /* dz complete (the bias sums above read it too) */
            int64_t s0, s1;
            mlp_share(t->batch.slots, 1, thread, team, &s0, &s1);
            mlp_sparse_weight_gradient(kern, &t->batch, s0, s1, dz, out, out, t->sparse_grad);
            mlp_barrier(team);
            break;
        }
        /* dW = H_prevᵀ dZ */
        const mlp_gemm_problem gw = {1, 0, in, out, rows, 1.0f, h_prev, ld_prev, dz, out, 0.0f,
                                     mlp_grad(t, net->weight_offset[l]), out, NULL, MLP_ACT_IDENTITY,
                                     l == 0 ? ps->input_rows : NULL};
        if (l == 0) {
            if (mlp_trainer_packs_input_transposed(t, 1, rows)) { /* Xᵀ packed by the forward */
                const mlp_bf16_operands ops = {t->x_bf16_transposed, NULL, NULL};
                mlp_gemm_bf16_team_with(kern, &gw, &ops, t->gemm_ws, thread, team);
            } else {
                gemm_team(t, kern, &gw, t->gemm_ws, thread, team);
            }
            break;
        }
        /* dH_prev = dZ Wᵀ, then through the previous layer's activation (threads take rows) */
        float *dh = t->delta[cur ^ 1];
        const mlp_gemm_problem gx = {0, 1, rows, in, out, 1.0f, dz, out, net->params + net->weight_offset[l], out,
                                     0.0f, dh, in, NULL, MLP_ACT_IDENTITY, NULL};
        if (paired_gradients(team)) {
            /* dW and dH_prev are independent and take the same flops: one thread each, at its one-thread speed
             * (shared, these smaller GEMMs lost a quarter of it); the results are the same either way */
            gemm_alone(t, kern, thread == 0 ? &gw : &gx, t->gemm_ws + thread * t->gradient_ws_floats);
            mlp_barrier(team);
        } else {
            gemm_team(t, kern, &gw, t->gemm_ws, thread, team);
            gemm_team(t, kern, &gx, t->gemm_ws, thread, team);
        }
        const int32_t act = mlp_layer_activation(net, l - 1);
        int64_t r0, r1;
        mlp_share(rows, 1, thread, team, &r0, &r1);
        if (t->config.dropout_rate > 0.0f) {
            const mlp_dropout drop = step_dropout(t);
            for (int64_t r = r0; r < r1; ++r)
                mlp_dropout_activation_backward(&drop, l - 1, r, act, in, h_prev + r * in, dh + r * in);
        } else {
            for (int64_t r = r0; r < r1; ++r) kern->activation_backward(act, in, h_prev + r * in, dh + r * in);
        }
        mlp_barrier(team);
        cur ^= 1;
    }
}

/* n parameters at w with gradient g and moments at offset o of the trainer's moment arrays (or m1/m2 given). */
static void optimizer_step(const mlp_trainer *t, int64_t n, float *w, const float *g, float *m1, float *m2,
                           float step_size, float rate, int weights)
{
    const mlp_kernels *kern = mlp_kernels_get();
    const mlp_train_config *c = &t->config;
    const float l2 = weights ? c->l2 : 0.0f, decay = weights ? c->learning_rate * rate * c->weight_decay : 0.0f;
    if (c->optimizer == MLP_OPT_ADAM)
        kern->adam_update(n, w, g, m1, m2, step_size * rate, c->beta1, c->beta2, c->epsilon, l2, decay);
    else
        kern->sgd_update(n, w, g, m1, c->learning_rate * rate, c->momentum, c->nesterov, l2, decay);
}

/* The first layer's weight row j with the input scale (thread-local: nothing else reads it): the gradient
 * P = dL/d(diag(s) W) gives ds_j = sum_k W[j,k] P[j,k] and dW[j,k] = s_j P[j,k]; W and s step, then the network
 * gets diag(s) W again. */
static void update_input_scaled_row(mlp_trainer *t, int64_t j, const float *p, float step_size, int thread)
{
    const mlp_network *net = t->net;
    const int64_t h = net->sizes[1], o = net->weight_offset[0];
    float *row_grad = t->w1_row_grad + (int64_t)thread * h;
    float *m1 = t->moment1, *m2 = t->moment2;
    float *raw = t->w1_raw + j * h;
    const mlp_kernels *kern = mlp_kernels_get();
    t->in_scale_grad[j] = (float)kern->scale_and_dot(h, t->in_scale[j], p, raw, row_grad);
    optimizer_step(t, h, raw, row_grad, m1 ? m1 + o + j * h : NULL, m2 ? m2 + o + j * h : NULL, step_size,
                   t->weight_rate[0], 1);
    optimizer_step(t, 1, t->in_scale + j, t->in_scale_grad + j, t->in_scale_m1 + j, t->in_scale_m2 + j, step_size,
                   t->config.input_scale_rate, 0);
    kern->scale(h, t->in_scale[j], raw, net->params + o + j * h);
}

/* The first layer's weights by rows: all of them (dense input, with the input scale) or the batch's columns only
 * (sparse input: lazy, the row gradients in sparse_grad); threads take rows, in pairs where a bf16 copy of the
 * weights is refreshed with them. */
static void update_first_layer_rows(mlp_trainer *t, float step_size, int thread, int team)
{
    const mlp_network *net = t->net;
    const int64_t in = net->sizes[0], h = net->sizes[1], o = net->weight_offset[0];
    const int sparse = t->config.sparse_input;
    const int64_t count = sparse ? t->batch.slots : in, unit = t->w_bf16[0] ? 2 : 1;
    int64_t lo, hi;
    mlp_share((count + unit - 1) / unit, 1, thread, team, &lo, &hi);
    lo *= unit;
    hi = hi * unit < count ? hi * unit : count;
    for (int64_t i = lo; i < hi; ++i) {
        const int64_t j = sparse ? t->batch.slot_column[i] : i;
        const float *p = sparse ? t->sparse_grad + i * h : mlp_grad(t, o + j * h);
        if (t->in_scale)
            update_input_scaled_row(t, j, p, step_size, thread);
        else
            optimizer_step(t, h, net->params + o + j * h, p, t->moment1 ? t->moment1 + o + j * h : NULL,
                           t->moment2 ? t->moment2 + o + j * h : NULL, step_size, t->weight_rate[0], 1);
        if (t->w_bf16[0] && (i % 2 == 1 || i == in - 1)) /* this pair of rows is final */
            mlp_bf16_pack_b_pairs(net->params + o, h, h, in, i / 2, i / 2 + 1, t->w_bf16[0]);
    }
}

/* A dense layer's weights with a bf16 copy: threads take pairs of rows, each updated and then packed while in
 * cache (the same element-wise update as by element ranges). */
static void update_packed_weights(mlp_trainer *t, int32_t l, float step_size, int thread, int team)
{
    const mlp_network *net = t->net;
    const int64_t in = net->sizes[l], out = net->sizes[l + 1], o = net->weight_offset[l];
    int64_t lo, hi;
    mlp_share((in + 1) / 2, 1, thread, team, &lo, &hi);
    for (int64_t q = lo; q < hi; ++q) {
        const int64_t first = o + 2 * q * out, n = (2 * q + 1 < in ? 2 : 1) * out;
        optimizer_step(t, n, net->params + first, mlp_grad(t, first), t->moment1 ? t->moment1 + first : NULL,
                       t->moment2 ? t->moment2 + first : NULL, step_size, t->weight_rate[l], 1);
        mlp_bf16_pack_b_pairs(net->params + o, out, out, in, q, q + 1, t->w_bf16[l]);
    }
}

static void update_team(mlp_trainer *t, float step_size, int thread, int team)
{
    const mlp_network *net = t->net;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        /* weights get the L2 term, biases do not; threads take element ranges (the update is element-wise) */
        const int64_t offsets[2] = {net->weight_offset[l], net->bias_offset[l]};
        const int64_t counts[2] = {(int64_t)net->sizes[l] * net->sizes[l + 1], net->sizes[l + 1]};
        const float rates[2] = {t->weight_rate[l], t->bias_rate[l]};
        for (int part = 0; part < 2; ++part) {
            if (l == 0 && part == 0 && (t->config.input_scale || t->config.sparse_input)) {
                update_first_layer_rows(t, step_size, thread, team);
                continue;
            }
            if (part == 0 && t->w_bf16[l]) {
                update_packed_weights(t, l, step_size, thread, team);
                continue;
            }
            int64_t lo, hi;
            mlp_share(counts[part], 16, thread, team, &lo, &hi);
            if (hi <= lo) continue;
            const int64_t o = offsets[part] + lo, n = hi - lo;
            optimizer_step(t, n, net->params + o, mlp_grad(t, o), t->moment1 ? t->moment1 + o : NULL,
                           t->moment2 ? t->moment2 + o : NULL, step_size, rates[part], part == 0);
        }
    }
}

void mlp_update_task_run(void *ctx, int thread, int team)
{
    const mlp_update_task *u = ctx;
    update_team(u->t, u->step_size, thread, team);
}

void mlp_step_task_run(void *ctx, int thread, int team)
{
    mlp_step_task *st = ctx;
    forward_team(&st->ps, thread, team);
    /* threads take rows; every thread then adds up all rows' losses in row order (the same total whatever
     * the team) to decide whether to go on */
    mlp_trainer *t = st->ps.t;
    int64_t r0, r1;
    mlp_share(st->ps.rows, 1, thread, team, &r0, &r1);
    st->status[thread] = mlp_loss_rows(&st->loss, r0, r1, t->row_losses);
    mlp_barrier(team);
    for (int i = 0; i < team; ++i)
        if (st->status[i] != MLP_OK)
            return;
    mlp_loss_sums total = {0, 0, 0};
    mlp_loss_total(t->row_losses, st->ps.rows, &total);
    if (thread == 0)
        st->sums = total;
    /* a non-finite loss: stop before anything is changed (the caller reports it) */
    if (!st->ps.train || !isfinite(total.loss))
        return;
    backward_team(&st->ps, thread, team);
    if (st->ps.update)
        update_team(st->ps.t, st->step_size, thread, team);
}
