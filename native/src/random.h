/* A small seeded generator (splitmix64): deterministic weight initialisation and dropout masks. */
#ifndef MLP_RANDOM_H
#define MLP_RANDOM_H

#include <math.h>
#include <stdint.h>

#include "portable_math.h"

typedef struct mlp_rng { uint64_t state; } mlp_rng;

static inline void mlp_rng_seed(mlp_rng *rng, uint64_t seed) { rng->state = seed; }

static inline uint64_t mlp_rng_next(mlp_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double mlp_rng_uniform(mlp_rng *rng) { return (double)(mlp_rng_next(rng) >> 11) * 0x1.0p-53; }

/* Standard normal by Box-Muller (one of the pair; simplicity over speed, used at initialisation), with the
 * portable log and cos: the same initial weights on every platform. */
static inline double mlp_rng_normal(mlp_rng *rng)
{
    const double u1 = 1.0 - mlp_rng_uniform(rng), u2 = mlp_rng_uniform(rng);
    return sqrt(-2.0 * mlp_log(u1)) * mlp_cos_2pi(u2);
}

#endif
