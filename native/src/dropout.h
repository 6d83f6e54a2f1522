/* Inverted dropout with masks that are a pure function of (seed, step, layer, row, unit): nothing is
 * stored between forward and backward, and the result does not depend on threads or on the ISA. */
#ifndef MLP_DROPOUT_H
#define MLP_DROPOUT_H

#include <stdint.h>

/* A 32-bit integer hash with good avalanche (Wellons' "lowbias32"); the per-unit mask bit is
 * hash32(row_key + unit * MLP_DROPOUT_GOLDEN) >= threshold, identically in every kernel set. */
#define MLP_DROPOUT_GOLDEN 0x9E3779B9U

static inline uint32_t mlp_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

typedef struct mlp_dropout {
    float rate;     /* probability of dropping a unit, in (0, 1) */
    uint64_t seed;  /* from the training configuration */
    uint64_t step;  /* the optimizer step */
} mlp_dropout;

/* h[j] = keep(j) ? h[j] / (1 - rate) : 0 for j < n, for row `row` of layer `layer`. */
void mlp_dropout_forward(const mlp_dropout *d, int32_t layer, int64_t row, int64_t n, float *h);

/* Backprop through dropout and then the activation, given the dropped output h:
 * g[j] = keep(j) ? g[j] / (1 - rate) * act'(h[j] * (1 - rate)) : 0. */
void mlp_dropout_activation_backward(const mlp_dropout *d, int32_t layer, int64_t row, int32_t act, int64_t n,
                                     const float *h, float *g);

#endif
