#include "dropout.h"

#include "kernels.h"

/* Per (row, layer) key, mixed from the seed and the step; the unit index is added per element. */
static uint32_t row_key(const mlp_dropout *d, int32_t layer, int64_t row)
{
    uint32_t k = mlp_hash32((uint32_t)d->seed ^ 0x9E3779B9U);
    k = mlp_hash32(k ^ (uint32_t)(d->seed >> 32));
    k = mlp_hash32(k ^ (uint32_t)d->step);
    k = mlp_hash32(k ^ (uint32_t)(d->step >> 32) ^ ((uint32_t)layer << 24));
    return mlp_hash32(k ^ (uint32_t)row);
}

static uint32_t threshold_of(float rate) { return (uint32_t)((double)rate * 4294967296.0); }

void mlp_dropout_forward(const mlp_dropout *d, int32_t layer, int64_t row, int64_t n, float *h)
{
    mlp_kernels_get()->dropout_forward(n, h, row_key(d, layer, row), threshold_of(d->rate), 1.0f / (1.0f - d->rate));
}

void mlp_dropout_activation_backward(const mlp_dropout *d, int32_t layer, int64_t row, int32_t act, int64_t n,
                                     const float *h, float *g)
{
    mlp_kernels_get()->dropout_backward(act, n, h, g, row_key(d, layer, row), threshold_of(d->rate), 1.0f - d->rate);
}
