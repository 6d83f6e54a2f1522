#include "dropout.h"

#include "kernels.h"

/* A 32-bit integer hash with good avalanche (Wellons' "lowbias32"). */
static inline uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Per (row, layer) key, mixed from the seed and the step; the unit index is added per element. */
static uint32_t row_key(const mlp_dropout *d, int32_t layer, int64_t row)
{
    uint32_t k = hash32((uint32_t)d->seed ^ 0x9E3779B9U);
    k = hash32(k ^ (uint32_t)(d->seed >> 32));
    k = hash32(k ^ (uint32_t)d->step);
    k = hash32(k ^ (uint32_t)(d->step >> 32) ^ ((uint32_t)layer << 24));
    return hash32(k ^ (uint32_t)row);
}

/* Kept when the hash, as a fraction of 2^32, is at or above the rate. */
static inline int kept(uint32_t key, int64_t unit, uint32_t threshold)
{
    return hash32(key + (uint32_t)unit * 0x9E3779B9U) >= threshold;
}

static uint32_t threshold_of(float rate) { return (uint32_t)((double)rate * 4294967296.0); }

void mlp_dropout_forward(const mlp_dropout *d, int32_t layer, int64_t row, int64_t n, float *h)
{
    const uint32_t key = row_key(d, layer, row), threshold = threshold_of(d->rate);
    const float scale = 1.0f / (1.0f - d->rate);
    for (int64_t j = 0; j < n; ++j) h[j] = kept(key, j, threshold) ? h[j] * scale : 0.0f;
}

void mlp_dropout_activation_backward(const mlp_dropout *d, int32_t layer, int64_t row, int32_t act, int64_t n,
                                     const float *h, float *g)
{
    const uint32_t key = row_key(d, layer, row), threshold = threshold_of(d->rate);
    const float keep = 1.0f - d->rate, scale = 1.0f / keep;
    for (int64_t j = 0; j < n; ++j)
        g[j] = kept(key, j, threshold) ? g[j] * scale * mlp_activation_derivative_scalar(act, h[j] * keep) : 0.0f;
}
