/* A network's bfloat16 scoring copies (mlp_network_set_scoring_precision): each layer wider than 16 in and out gets
 * its weights packed once as bf16 panels, which scoring streams instead of the float32 weights (half the bytes). */
#include <stdlib.h>

#include "errors.h"
#include "gemm_bf16.h"
#include "network.h"

int mlp_network_bf16_layer(const mlp_network *net, int32_t l)
{
    return net->scoring_precision == MLP_PRECISION_BFLOAT16 && net->sizes[l] > 16 && net->sizes[l + 1] > 16;
}

static int64_t layer_words(const mlp_network *net, int32_t l)
{
    return mlp_gemm_bf16_workspace_floats(0, net->sizes[l + 1], net->sizes[l]);
}

void mlp_network_free_scoring(mlp_network *net)
{
    for (int32_t l = 0; l < MLP_MAX_LAYERS; ++l) {
        free(net->scoring_bf16[l]);
        net->scoring_bf16[l] = NULL;
    }
    net->scoring_precision = MLP_PRECISION_FLOAT32;
}

int32_t mlp_network_repack_scoring(mlp_network *net)
{
    for (int32_t l = 0; l < net->num_layers; ++l) {
        if (!mlp_network_bf16_layer(net, l)) continue;
        if (!net->scoring_bf16[l] && !(net->scoring_bf16[l] = malloc((size_t)layer_words(net, l) * sizeof(uint32_t)))) {
            mlp_network_free_scoring(net);
            return mlp_fail(MLP_ERR_OUT_OF_MEMORY, "out of memory for the bfloat16 copy of layer %d", (int)l);
        }
        const int64_t in = net->sizes[l], out = net->sizes[l + 1];
        const mlp_gemm_problem weights = {0, 0, 0, out, in, 1.0f, NULL, 1, net->params + net->weight_offset[l], out,
                                          0.0f, NULL, 1, NULL, MLP_ACT_IDENTITY, NULL};
        mlp_bf16_pack_b(&weights, net->scoring_bf16[l]);
    }
    return MLP_OK;
}

int64_t mlp_network_bf16_workspace_floats(const mlp_network *net, int64_t rows)
{
    /* counted whenever the CPU could score in bfloat16, so that a workspace sized before the precision changes
     * still fits after it */
    if (!mlp_bf16_available()) return 0;
    int64_t most = 0;
    for (int32_t l = 0; l < net->num_layers; ++l) {
        if (net->sizes[l] <= 16 || net->sizes[l + 1] <= 16) continue;
        const int64_t w = mlp_gemm_bf16_workspace_floats(rows, 0, net->sizes[l]);
        if (w > most) most = w;
    }
    return most;
}

MLP_API int32_t mlp_network_set_scoring_precision(mlp_network *net, int32_t precision)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK(precision == MLP_PRECISION_FLOAT32 || precision == MLP_PRECISION_BFLOAT16,
              "precision must be 0 (float32) or 1 (bfloat16), got %d", (int)precision);
    if (precision == MLP_PRECISION_BFLOAT16 && !mlp_bf16_available())
        return mlp_fail(MLP_ERR_UNSUPPORTED, "bfloat16 scoring needs AVX512_BF16, which this CPU lacks (or MLNETMLP_ISA "
                                             "caps the kernels below AVX-512)");
    mlp_network_free_scoring(net);
    if (precision == MLP_PRECISION_FLOAT32) return MLP_OK;
    net->scoring_precision = precision;
    return mlp_network_repack_scoring(net);
}

MLP_API int32_t mlp_network_get_scoring_precision(const mlp_network *net, int32_t *precision)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(net);
    MLP_CHECK_NOT_NULL(precision);
    *precision = net->scoring_precision;
    return MLP_OK;
}
