/* The network object shared by scoring (network.c) and training (trainer.c). */
#ifndef MLP_NETWORK_H
#define MLP_NETWORK_H

#include <stdint.h>

#include "mlnetmlp.h"

#define MLP_MAX_LAYERS 64
#define MLP_MAX_WIDTH (1 << 24)
#define MLP_MAX_PARAMETERS ((int64_t)INT32_MAX)

struct mlp_network {
    int32_t num_layers;
    int32_t sizes[MLP_MAX_LAYERS + 1]; /* input width, hidden widths..., output width */
    int32_t hidden_activation;
    int32_t loss;
    int64_t parameter_count;
    /* All parameters in one block: layer l's weights [in, out] at weight_offset[l], its biases at
     * bias_offset[l]. Gradients and optimizer state use the same layout. */
    int64_t weight_offset[MLP_MAX_LAYERS], bias_offset[MLP_MAX_LAYERS];
    float *params;
    /* mlp_network_set_scoring_precision: MLP_PRECISION_BFLOAT16 keeps packed bf16 copies of the wide layers'
     * weights (NULL for the others), repacked whenever the weights are set */
    int32_t scoring_precision;
    uint32_t *scoring_bf16[MLP_MAX_LAYERS];
    /* Counts the changes of the dense layers' weights (init, set_layer, a trainer's update): a trainer's bfloat16
     * copies of them are current while it holds the count of its own last update. */
    uint64_t weights_version;
};

/* Whether layer l scores through its bfloat16 copy. */
int mlp_network_bf16_layer(const mlp_network *net, int32_t l);
/* Repacks the bfloat16 copies after the float32 weights changed (a no-op in float32). */
int32_t mlp_network_repack_scoring(mlp_network *net);
/* Drops the copies: float32 scoring. */
void mlp_network_free_scoring(mlp_network *net);
/* Words of predict workspace bfloat16 scoring needs for chunks of `rows` rows (whatever the precision now set). */
int64_t mlp_network_bf16_workspace_floats(const mlp_network *net, int64_t rows);

/* The activation after layer l: the hidden activation, identity for the output layer. */
static inline int32_t mlp_layer_activation(const mlp_network *net, int32_t l)
{
    return l == net->num_layers - 1 ? MLP_ACT_IDENTITY : net->hidden_activation;
}

/* Widest hidden layer (0 for a linear model). */
int64_t mlp_network_max_hidden(const mlp_network *net);

/* In-place softmax / sigmoid of raw outputs, per the network's loss. */
void mlp_network_output_transform(const mlp_network *net, float *out, int64_t ldo, int64_t rows);

#endif
