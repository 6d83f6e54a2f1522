/* Network creation, parameters, initialisation and reentrant scoring. */
#include "network.h"

#include <math.h>
#include <string.h>

#include "errors.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "loss.h"
#include "memory.h"
#include "portable_math.h"
#include "random.h"
#include "sparse.h"
#include "threads.h"

/* Rows scored per pass: bounds the workspace and keeps activations in cache. */
#define PREDICT_CHUNK 256
/* Scoring uses at most this many threads (the workspace is sized for it). */
#define PREDICT_MAX_THREADS 2

MLP_API int32_t mlp_network_create(int32_t num_layers, const int32_t *layer_sizes, int32_t hidden_activation,
                                   int32_t loss, mlp_network **out)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(out);
    *out = NULL;
    MLP_CHECK_NOT_NULL(layer_sizes);
    MLP_CHECK(num_layers >= 1 && num_layers <= MLP_MAX_LAYERS, "num_layers must be in [1, %d], got %d",
              MLP_MAX_LAYERS, (int)num_layers);
    MLP_CHECK(hidden_activation >= MLP_ACT_IDENTITY && hidden_activation <= MLP_ACT_LAST,
              "unknown activation %d", (int)hidden_activation);
    for (int32_t i = 0; i <= num_layers; ++i)
        MLP_CHECK(layer_sizes[i] >= 1 && layer_sizes[i] <= MLP_MAX_WIDTH, "layer size %d is %d; it must be in [1, %d]",
                  (int)i, (int)layer_sizes[i], MLP_MAX_WIDTH);
    int32_t status = mlp_loss_check_outputs(loss, layer_sizes[num_layers]);
    if (status != MLP_OK)
        return status;

    mlp_network *net = calloc(1, sizeof *net);
    if (!net)
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating a network");
    net->num_layers = num_layers;
    net->hidden_activation = hidden_activation;
    net->loss = loss;
    int64_t offset = 0;
    for (int32_t l = 0; l < num_layers; ++l) {
        net->sizes[l] = layer_sizes[l];
        net->weight_offset[l] = offset;
        offset += (int64_t)layer_sizes[l] * layer_sizes[l + 1];
        net->bias_offset[l] = offset;
        offset += layer_sizes[l + 1];
        if (offset > MLP_MAX_PARAMETERS) {
            free(net);
            return mlp_fail(MLP_ERR_INVALID_ARGUMENT, "the network has more than %lld parameters",
                            (long long)MLP_MAX_PARAMETERS);
        }
    }
    net->sizes[num_layers] = layer_sizes[num_layers];
    net->parameter_count = offset;
    net->params = mlp_alloc_floats(offset);
    if (!net->params) {
        free(net);
        return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory allocating %lld parameters", (long long)offset);
    }
    memset(net->params, 0, (size_t)offset * sizeof(float));
    net->weights_version = 1;
    *out = net;
    return MLP_OK;
}

MLP_API int32_t mlp_network_destroy(mlp_network *net)
{
    mlp_clear_error();
    if (net) {
        mlp_network_free_scoring(net);
        mlp_free(net->params);
        free(net);
    }
    return MLP_OK;
}

int64_t mlp_network_max_hidden(const mlp_network *net)
{
    int64_t w = 0;
    for (int32_t l = 1; l < net->num_layers; ++l)
        if (net->sizes[l] > w) w = net->sizes[l];
    return w;
}

MLP_API int32_t mlp_network_init(mlp_network *net, uint64_t seed)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    mlp_rng rng;
    mlp_rng_seed(&rng, seed);
    const int relu_like = net->hidden_activation == MLP_ACT_RELU || net->hidden_activation == MLP_ACT_LEAKY_RELU;
    const int selu = net->hidden_activation == MLP_ACT_SELU;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        const int64_t fan_in = net->sizes[l], fan_out = net->sizes[l + 1];
        float *w = net->params + net->weight_offset[l];
        /* He (normal, variance 2/fan_in) feeds ReLU-like units; LeCun (normal, variance 1/fan_in) keeps SELU
         * networks self-normalizing (every layer, the output one too); Glorot (uniform, variance
         * 2/(fan_in+fan_out)) suits tanh/sigmoid and the output layer. */
        const int normal = (relu_like && l < net->num_layers - 1) || selu;
        const double limit = sqrt(6.0 / (double)(fan_in + fan_out)), stddev = sqrt((selu ? 1.0 : 2.0) / (double)fan_in);
        for (int64_t i = 0; i < fan_in * fan_out; ++i)
            w[i] = (float)(normal ? stddev * mlp_rng_normal(&rng) : limit * (2.0 * mlp_rng_uniform(&rng) - 1.0));
        memset(net->params + net->bias_offset[l], 0, (size_t)fan_out * sizeof(float));
    }
    net->weights_version++;
    return mlp_network_repack_scoring(net);
}

static int32_t check_layer_args(const mlp_network *net, int32_t layer, int64_t weight_count, int64_t bias_count)
{
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK(layer >= 0 && layer < net->num_layers, "layer %d is outside [0, %d)", (int)layer, (int)net->num_layers);
    const int64_t wc = (int64_t)net->sizes[layer] * net->sizes[layer + 1];
    MLP_CHECK(weight_count == wc, "layer %d has %lld weights, the buffer holds %lld", (int)layer, (long long)wc,
              (long long)weight_count);
    MLP_CHECK(bias_count == net->sizes[layer + 1], "layer %d has %d biases, the buffer holds %lld", (int)layer,
              (int)net->sizes[layer + 1], (long long)bias_count);
    return MLP_OK;
}

MLP_API int32_t mlp_network_get_layer(const mlp_network *net, int32_t layer, float *weights, int64_t weight_count,
                                      float *biases, int64_t bias_count)
{
    mlp_clear_error();
    int32_t status = check_layer_args(net, layer, weight_count, bias_count);
    if (status != MLP_OK) return status;
    MLP_CHECK_NOT_NULL(weights);
    MLP_CHECK_NOT_NULL(biases);
    memcpy(weights, net->params + net->weight_offset[layer], (size_t)weight_count * sizeof(float));
    memcpy(biases, net->params + net->bias_offset[layer], (size_t)bias_count * sizeof(float));
    return MLP_OK;
}

MLP_API int32_t mlp_network_set_layer(mlp_network *net, int32_t layer, const float *weights, int64_t weight_count,
                                      const float *biases, int64_t bias_count)
{
    mlp_clear_error();
    int32_t status = check_layer_args(net, layer, weight_count, bias_count);
    if (status != MLP_OK) return status;
    MLP_CHECK_NOT_NULL(weights);
    MLP_CHECK_NOT_NULL(biases);
    for (int64_t i = 0; i < weight_count; ++i)
        MLP_CHECK(isfinite(weights[i]), "weight %lld of layer %d is not finite", (long long)i, (int)layer);
    for (int64_t i = 0; i < bias_count; ++i)
        MLP_CHECK(isfinite(biases[i]), "bias %lld of layer %d is not finite", (long long)i, (int)layer);
    memcpy(net->params + net->weight_offset[layer], weights, (size_t)weight_count * sizeof(float));
    memcpy(net->params + net->bias_offset[layer], biases, (size_t)bias_count * sizeof(float));
    net->weights_version++;
    return mlp_network_repack_scoring(net);
}

MLP_API int32_t mlp_network_all_finite(const mlp_network *net, int32_t *all_finite)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK_NOT_NULL(all_finite);
    int finite = 1;
    for (int64_t i = 0; i < net->parameter_count && finite; ++i) finite = isfinite(net->params[i]);
    *all_finite = finite;
    return MLP_OK;
}

/* ---- scoring ------------------------------------------------------------------------------------ */

static int64_t predict_gemm_floats(const mlp_network *net, int64_t chunk)
{
    int64_t most = 0;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        const int64_t w = mlp_gemm_workspace_floats(chunk, net->sizes[l + 1], net->sizes[l], PREDICT_MAX_THREADS);
        if (w > most) most = w;
    }
    return most;
}

static int64_t predict_workspace_floats(const mlp_network *net, int64_t rows)
{
    const int64_t chunk = rows < PREDICT_CHUNK ? rows : PREDICT_CHUNK;
    return 2 * chunk * mlp_network_max_hidden(net) + predict_gemm_floats(net, chunk) + mlp_network_bf16_workspace_floats(net, chunk) + 32;
}

MLP_API int32_t mlp_network_workspace_size(const mlp_network *net, int64_t rows, int64_t *count)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK_NOT_NULL(count);
    MLP_CHECK(rows >= 0, "rows must not be negative, got %lld", (long long)rows);
    *count = predict_workspace_floats(net, rows);
    return MLP_OK;
}

#define SOFTMAX_BLOCK 16

void mlp_network_output_transform(const mlp_network *net, float *out, int64_t ldo, int64_t rows)
{
    const int64_t cols = net->sizes[net->num_layers];
    for (int64_t r = 0; r < rows; ++r) {
        float *o = out + r * ldo;
        if (net->loss == MLP_LOSS_SOFTMAX_CROSS_ENTROPY) {
            float zmax = o[0];
            for (int64_t j = 1; j < cols; ++j) zmax = o[j] > zmax ? o[j] : zmax;
            /* each exp once, a block at a time (mlp_exp's bits; the sum in order) */
            double sum = 0.0, e[SOFTMAX_BLOCK];
            for (int64_t j0 = 0; j0 < cols; j0 += SOFTMAX_BLOCK) {
                const int64_t n = cols - j0 < SOFTMAX_BLOCK ? cols - j0 : SOFTMAX_BLOCK;
                mlp_shifted_exps(n, o + j0, zmax, e);
                for (int64_t j = 0; j < n; ++j) sum += e[j];
            }
            for (int64_t j0 = 0; j0 < cols; j0 += SOFTMAX_BLOCK) {
                const int64_t n = cols - j0 < SOFTMAX_BLOCK ? cols - j0 : SOFTMAX_BLOCK;
                if (cols > SOFTMAX_BLOCK) /* (else e still holds them) */
                    mlp_shifted_exps(n, o + j0, zmax, e);
                for (int64_t j = 0; j < n; ++j) o[j0 + j] = (float)(e[j] / sum);
            }
        } else if (net->loss == MLP_LOSS_SIGMOID_LOG_LOSS) {
            o[0] = o[0] >= 0.0f ? 1.0f / (1.0f + mlp_expf(-o[0])) : mlp_expf(o[0]) / (1.0f + mlp_expf(o[0]));
        }
    }
}

typedef struct predict_task {
    const mlp_network *net;
    const mlp_kernels *kern;
    const mlp_csr *csr; /* sparse rows instead of x */
    const float *x;
    int64_t ldx, rows;
    int32_t output;
    float *out;
    int64_t ldo, chunk_max;
    float *buffers[2];
    float *gemm_ws;
    float *bf16_ws; /* the bfloat16 layers' packed rows */
} predict_task;

/* A layer through its bfloat16 copy: one row as a GEMV (the tile's arithmetic, so alone = in a batch), more as a
 * GEMM with the weights already packed. */
static void predict_bf16_layer(const predict_task *t, const mlp_gemm_problem *g, const uint32_t *panels, int thread, int team)
{
#if defined(MLP_HAVE_AVX512_KERNELS)
    if (g->m == 1) {
        if (thread == 0) {
            uint32_t *x = (uint32_t *)t->bf16_ws;
            const int64_t q_count = (g->k + 1) / 2;
            mlp_bf16_row_pairs_avx512(g->a, g->k, x);
            mlp_bf16_gemv_avx512(q_count, x, panels, q_count * MLP_BF16_PANEL, g->n, g->c);
            t->kern->bias_activation(g->activation, g->n, g->bias, g->c);
        }
        mlp_barrier(team);
        return;
    }
#endif
    mlp_gemm_bf16_team_packed_b(t->kern, g, panels, t->bf16_ws, thread, team);
}

/* The whole forward pass in one parallel region: the team shares each layer's GEMM (mlp_gemm_team waits
 * for the layer to finish), thread 0 applies the output transform. */
static void predict_run(void *ctx, int thread, int team)
{
    const predict_task *t = ctx;
    const mlp_network *net = t->net;
    for (int64_t r0 = 0; r0 < t->rows; r0 += t->chunk_max) {
        const int64_t chunk = t->rows - r0 < t->chunk_max ? t->rows - r0 : t->chunk_max;
        const float *h = t->csr ? NULL : t->x + r0 * t->ldx;
        int64_t ldh = t->ldx;
        for (int32_t l = 0; l < net->num_layers; ++l) {
            const int last = l == net->num_layers - 1;
            float *z = last ? t->out + r0 * t->ldo : t->buffers[l & 1];
            const int64_t ldz = last ? t->ldo : net->sizes[l + 1];
            if (l == 0 && t->csr) { /* the chunk's sparse rows, threads take rows */
                const mlp_csr view = {t->csr->rows - r0, t->csr->cols, t->csr->offsets + r0, t->csr->columns, t->csr->values};
                int64_t lo, hi;
                mlp_share(chunk, 1, thread, team, &lo, &hi);
                mlp_sparse_forward(t->kern, &view, NULL, lo, hi, net->params + net->weight_offset[0], net->sizes[1],
                                   net->params + net->bias_offset[0], mlp_layer_activation(net, 0), z, ldz);
                mlp_barrier(team);
            } else {
                const mlp_gemm_problem g = {0, 0, chunk, net->sizes[l + 1], net->sizes[l], 1.0f,
                                            h, ldh, net->params + net->weight_offset[l], net->sizes[l + 1], 0.0f, z, ldz,
                                            net->params + net->bias_offset[l], mlp_layer_activation(net, l), NULL};
                if (net->scoring_bf16[l])
                    predict_bf16_layer(t, &g, net->scoring_bf16[l], thread, team);
                else
                    mlp_gemm_team(t->kern, &g, t->gemm_ws, thread, team);
            }
            h = z;
            ldh = ldz;
        }
        if (t->output == MLP_OUTPUT_PROBABILITY && thread == 0)
            mlp_network_output_transform(net, t->out + r0 * t->ldo, t->ldo, chunk);
    }
}

MLP_API int32_t mlp_network_predict(const mlp_network *net, const float *x, int64_t ldx, int64_t rows, int32_t output,
                                    float *out, int64_t ldo, float *workspace, int64_t workspace_count, int32_t threads)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK(rows >= 0, "rows must not be negative, got %lld", (long long)rows);
    MLP_CHECK(output == MLP_OUTPUT_RAW || output == MLP_OUTPUT_PROBABILITY, "unknown output kind %d", (int)output);
    MLP_CHECK(threads >= 0 && threads <= MLP_MAX_THREADS, "threads must be in [0, %d], got %d", MLP_MAX_THREADS, (int)threads);
    const int64_t in = net->sizes[0], outs = net->sizes[net->num_layers];
    MLP_CHECK(ldx >= in, "ldx is %lld but the network has %lld inputs", (long long)ldx, (long long)in);
    MLP_CHECK(ldo >= outs, "ldo is %lld but the network has %lld outputs", (long long)ldo, (long long)outs);
    if (rows == 0)
        return MLP_OK;
    MLP_CHECK_NOT_NULL(x);
    MLP_CHECK_NOT_NULL(out);
    MLP_CHECK_NOT_NULL(workspace);
    const int64_t needed = predict_workspace_floats(net, rows);
    MLP_CHECK(workspace_count >= needed, "the workspace holds %lld floats but %lld are needed for %lld rows",
              (long long)workspace_count, (long long)needed, (long long)rows);

    const int64_t chunk_max = rows < PREDICT_CHUNK ? rows : PREDICT_CHUNK, hidden = mlp_network_max_hidden(net);
    const predict_task task = {net, mlp_kernels_get(), NULL, x, ldx, rows, output, out, ldo, chunk_max,
                               {workspace, workspace + chunk_max * hidden}, workspace + 2 * chunk_max * hidden,
                               workspace + 2 * chunk_max * hidden + predict_gemm_floats(net, chunk_max)};
    /* Threads pay off when the weights outgrow one core's cache (each thread then streams its share) or when
     * many rows make big GEMMs; small networks score on the calling thread alone. */
    int team = mlp_threads_resolve(threads);
    if (team > PREDICT_MAX_THREADS) team = PREDICT_MAX_THREADS;
    if (net->parameter_count < 64 * 1024 && rows < 64) team = 1;
    mlp_parallel(team, predict_run, (void *)&task);
    return MLP_OK;
}

MLP_API int32_t mlp_network_predict_csr(const mlp_network *net, const mlp_csr *x, int32_t output, float *out,
                                        int64_t ldo, float *workspace, int64_t workspace_count, int32_t threads)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK(output == MLP_OUTPUT_RAW || output == MLP_OUTPUT_PROBABILITY, "unknown output kind %d", (int)output);
    MLP_CHECK(threads >= 0 && threads <= MLP_MAX_THREADS, "threads must be in [0, %d], got %d", MLP_MAX_THREADS, (int)threads);
    int32_t status = mlp_csr_check(x, NULL, x ? x->rows : 0, net->sizes[0]);
    if (status != MLP_OK) return status;
    const int64_t rows = x->rows, outs = net->sizes[net->num_layers];
    MLP_CHECK(ldo >= outs, "ldo is %lld but the network has %lld outputs", (long long)ldo, (long long)outs);
    if (rows == 0)
        return MLP_OK;
    MLP_CHECK_NOT_NULL(out);
    MLP_CHECK_NOT_NULL(workspace);
    const int64_t needed = predict_workspace_floats(net, rows);
    MLP_CHECK(workspace_count >= needed, "the workspace holds %lld floats but %lld are needed for %lld rows",
              (long long)workspace_count, (long long)needed, (long long)rows);
    const int64_t chunk_max = rows < PREDICT_CHUNK ? rows : PREDICT_CHUNK, hidden = mlp_network_max_hidden(net);
    /* a linear model writes its one layer straight into out: the sparse sum needs ldz = ldo there */
    const predict_task task = {net, mlp_kernels_get(), x, NULL, 0, rows, output, out, ldo, chunk_max,
                               {workspace, workspace + chunk_max * hidden}, workspace + 2 * chunk_max * hidden,
                               workspace + 2 * chunk_max * hidden + predict_gemm_floats(net, chunk_max)};
    int team = mlp_threads_resolve(threads);
    if (team > PREDICT_MAX_THREADS) team = PREDICT_MAX_THREADS;
    if (rows < 64) team = 1;
    mlp_parallel(team, predict_run, (void *)&task);
    return MLP_OK;
}
