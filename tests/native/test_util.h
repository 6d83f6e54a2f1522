/* A minimal test harness: CHECK records failures, main returns non-zero if any. */
#ifndef MLP_TEST_UTIL_H
#define MLP_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlnetmlp.h"

static int test_failures;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            ++test_failures;                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
            if (test_failures > 20) exit(1);                               \
        }                                                                  \
    } while (0)

#define CHECK_OK(call)                                                                    \
    do {                                                                                  \
        int32_t st_ = (call);                                                             \
        CHECK(st_ == 0, "%s returned %d: %s", #call, (int)st_, mlp_last_error_message()); \
    } while (0)

static inline uint64_t test_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static inline float test_uniform(uint64_t *s) { return (float)((double)(test_rng_next(s) >> 11) * 0x1.0p-52 - 1.0); }

/* A training configuration with the usual Adam betas and epsilon (SGD ignores them). */
static inline mlp_train_config test_train_config(int optimizer, float lr, int batch, int threads)
{
    mlp_train_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = (int32_t)sizeof c;
    c.optimizer = optimizer;
    c.learning_rate = lr;
    c.beta1 = 0.9f, c.beta2 = 0.999f, c.epsilon = 1e-8f;
    c.max_batch_rows = batch;
    c.num_threads = threads;
    return c;
}

/* All parameters of a network of `layers` layers (sizes[0 .. layers]) in the network's order (per layer its weights,
 * then its biases): out of it, or into it. */
static inline void test_get_params(const mlp_network *net, int layers, const int32_t *sizes, float *out)
{
    int64_t o = 0;
    for (int l = 0; l < layers; ++l) {
        const int64_t wc = (int64_t)sizes[l] * sizes[l + 1];
        CHECK_OK(mlp_network_get_layer(net, l, out + o, wc, out + o + wc, sizes[l + 1]));
        o += wc + sizes[l + 1];
    }
}

static inline void test_set_params(mlp_network *net, int layers, const int32_t *sizes, const float *in)
{
    int64_t o = 0;
    for (int l = 0; l < layers; ++l) {
        const int64_t wc = (int64_t)sizes[l] * sizes[l + 1];
        CHECK_OK(mlp_network_set_layer(net, l, in + o, wc, in + o + wc, sizes[l + 1]));
        o += wc + sizes[l + 1];
    }
}

static inline int test_report(const char *name)
{
    if (test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
